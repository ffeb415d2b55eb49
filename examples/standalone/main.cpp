// word_count [--master M] [--conf k=v]... INPUT OUTPUT_DIR: counts the words (split at
// whitespace) of a text file, directory or glob; writes "word<TAB>count" lines to OUTPUT_DIR's
// part files and prints how many distinct words there were. The template of
// docs/getting-started.md, built against an installed Ember (examples/standalone/CMakeLists.txt).
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include <ember/ember.hpp>

int run(int argc, char** argv) {
  // Parses and removes Ember's own options (--master, --conf, --name). Started by a worker as an
  // executor, the program runs the executor here and exits: nothing below runs there.
  auto ctx = ember::context::create(argc, argv);
  if (argc != 3) {
    std::cerr << "usage: word_count [--master M] [--conf k=v]... INPUT OUTPUT_DIR\n";
    return 2;
  }
  using word_count = std::pair<std::string, int64_t>;
  // Captureless lambdas: they ship to the executors by their type (docs/getting-started.md).
  auto counts = ctx.text_file(argv[1])
                    .flat_map<word_count>([](const std::string& line, auto& out) {
                      ember::for_each_word(line, [&](std::string_view w) { out(word_count(w, 1)); });
                    })
                    .reduce_by_key([](int64_t a, int64_t b) { return a + b; });
  counts.save_as_text_file(argv[2]);
  std::cout << counts.count() << " distinct words\n";
  return 0;
}

// run_app turns an exception into one line on stderr and exit code 1.
int main(int argc, char** argv) { return ember::run_app("word_count", [&] { return run(argc, argv); }); }
