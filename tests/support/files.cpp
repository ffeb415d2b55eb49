#include "tests/support/files.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace ember_test {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::istringstream in{text};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::vector<std::string> part_file_lines(const std::filesystem::path& output_dir) {
  std::vector<std::filesystem::path> parts;
  for (auto& e : std::filesystem::directory_iterator(output_dir))
    if (e.path().filename().string().starts_with("part-"))
      parts.push_back(e.path());
  std::sort(parts.begin(), parts.end());
  std::vector<std::string> lines;
  for (auto& p : parts)
    for (auto& l : read_lines(p))
      lines.push_back(std::move(l));
  return lines;
}

void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out{p, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + p.string());
}

} // namespace ember_test
