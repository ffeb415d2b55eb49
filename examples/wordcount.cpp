// wordcount INPUT... OUTPUT_DIR: counts words (split at whitespace) in text files; writes part
// files of "word<TAB>count" lines and prints the 10 most frequent words.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <ember/ember.hpp>

int run(int argc, char** argv) {
  auto ctx = ember::context::create(argc, argv);
  if (argc < 3) {
    std::cerr << "usage: wordcount [--master M] [--conf k=v]... INPUT... OUTPUT_DIR\n";
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto lines = ctx.text_file(argv[1]);
  for (int i = 2; i + 1 < argc; ++i)
    lines = lines.union_with(ctx.text_file(argv[i]));
  using word_count = std::pair<std::string, int64_t>;
  auto counts = lines
                  .flat_map<word_count>([](const std::string& line, auto& out) {
                    ember::for_each_word(line, [&](std::string_view w) { out(word_count(w, 1)); });
                  })
                  .reduce_by_key([](int64_t a, int64_t b) { return a + b; });
  counts.save_as_text_file(argv[argc - 1]);
  for (auto& [word, n] : counts.top(10, ember::by_value{}))
    std::cout << word << '\t' << n << '\n';
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wordcount: %.3f s\n", secs);
  return 0;
}

int main(int argc, char** argv) { return ember::run_app("wordcount", [&] { return run(argc, argv); }); }
