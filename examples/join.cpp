// join LEFT RIGHT OUTPUT_DIR: inner join of two keyed text tables ("key<TAB>value" lines);
// writes "key<TAB>left<TAB>right" lines, sorted by key.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <ember/ember.hpp>

namespace {

std::pair<std::string, std::string> split_tab(std::string line) {
  auto tab = line.find('\t');
  if (tab == std::string::npos)
    return {std::move(line), {}};
  return {line.substr(0, tab), line.substr(tab + 1)};
}

} // namespace

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc != 4) {
    std::cerr << "usage: join [--master M] [--conf k=v]... LEFT RIGHT OUTPUT_DIR\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto left = ctx.text_file(argv[1]).map([](std::string l) { return split_tab(std::move(l)); });
  auto right = ctx.text_file(argv[2]).map([](std::string l) { return split_tab(std::move(l)); });
  left.join(right)
    .map([](std::pair<std::string, std::pair<std::string, std::string>> x) {
      return std::pair{std::move(x.first), x.second.first + '\t' + x.second.second};
    })
    .sort_by_key()
    .save_as_text_file(argv[3]);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "join: %.3f s\n", secs);
  return 0;
}

int main(int argc, char** argv) { return ember::run_app("join", [&] { return run(argc, argv); }); }
