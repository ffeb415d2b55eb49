// Whole-file reads and writes for tests: what a test compares or plants is a whole file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ember_test {

// The file's bytes; empty when it does not exist (a test then fails on the content, naming it).
std::string slurp(const std::filesystem::path& p);
// The file's lines, without their '\n'.
std::vector<std::string> read_lines(const std::filesystem::path& p);
// The text's lines, without their '\n' (a program's output).
std::vector<std::string> split_lines(const std::string& text);
// Every line of the part files (part-*) of a job's output directory, in part order.
std::vector<std::string> part_file_lines(const std::filesystem::path& output_dir);
// Replaces the file with `bytes`; throws std::runtime_error naming the file on failure.
void write_file(const std::filesystem::path& p, std::string_view bytes);

} // namespace ember_test
