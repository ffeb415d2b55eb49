// chaos_wordcount: the word count example with switches that make its map tasks throw, for the
// fault scenarios of `ember chaos` (tests/fault/). Same output as examples/wordcount.
//
//   chaos_wordcount [--master M] [--conf k=v]... [--fail-word W] [--fail-once FILE] [--hang-once FILE]
//                   INPUT... OUTPUT_DIR
//
// --fail-word W   every map task that reads a line holding the word W ('*': any line) throws, in
//                 every attempt: the job fails once a task has failed ember.task.maxFailures times
// --fail-once F   the first map task to run creates the marker file F (O_EXCL) and throws; every
//                 later attempt finds the marker and runs normally (one failure, then recovery)
// --hang-once F   the first record to be saved (reduce side) creates the marker file F (O_EXCL) and
//                 its task hangs until its process is killed; the other tasks write their attempt
//                 files. The job cannot commit its output until a later run (a relaunched driver)
//                 finds the marker and goes on: a driver killed while its output is half written
//
// The switches are read before ember::context::create and left in argv: create passes the
// application's arguments on to the executors (which run this binary and never return from
// create), so the task functions see them in every process. The driver then drops them.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/ember.hpp>

namespace {

std::string fail_word;
std::string fail_once_marker;
std::string hang_once_marker;

// The value of "--name VALUE" in argv, or empty when absent.
std::string find_option(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return {};
}

// Removes "--name VALUE" from argv.
void drop_option(int& argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) {
      for (int j = i; j + 2 <= argc; ++j)
        argv[j] = argv[j + 2];
      argc -= 2;
      return;
    }
  }
}

void maybe_fail(const std::string& line) {
  if (!fail_once_marker.empty()) {
    int fd = ::open(fail_once_marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      throw std::runtime_error("chaos_wordcount: injected failure (--fail-once " + fail_once_marker + ")");
    }
  }
  if (!fail_word.empty()) {
    bool hit = fail_word == "*";
    ember::for_each_word(line, [&](std::string_view w) { hit = hit || w == fail_word; });
    if (hit)
      throw std::runtime_error("chaos_wordcount: injected failure on the word '" + fail_word + "' (--fail-word)");
  }
}

void maybe_hang() {
  int fd = ::open(hang_once_marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  ::close(fd);
  for (;;)
    ::pause();  // until the executor is killed
}

int run(int argc, char** argv) {
  fail_word = find_option(argc, argv, "--fail-word");
  fail_once_marker = find_option(argc, argv, "--fail-once");
  hang_once_marker = find_option(argc, argv, "--hang-once");
  auto ctx = ember::context::create(argc, argv);
  drop_option(argc, argv, "--fail-word");
  drop_option(argc, argv, "--fail-once");
  drop_option(argc, argv, "--hang-once");
  if (argc < 3) {
    std::cerr << "usage: chaos_wordcount [--master M] [--conf k=v]... [--fail-word W] [--fail-once FILE] "
                 "[--hang-once FILE] INPUT... OUTPUT_DIR\n";
    return 2;
  }
  auto lines = ctx.text_file(argv[1]);
  for (int i = 2; i + 1 < argc; ++i)
    lines = lines.union_with(ctx.text_file(argv[i]));
  auto counts = lines
                  .flat_map<std::pair<std::string, int64_t>>([](const std::string& line, auto& out) {
                    maybe_fail(line);
                    ember::for_each_word(line, [&](std::string_view w) { out({std::string(w), 1}); });
                  })
                  .reduce_by_key([](int64_t a, int64_t b) { return a + b; });
  if (!hang_once_marker.empty())
    counts = counts.map([](std::pair<std::string, int64_t> kv) {
      maybe_hang();
      return kv;
    });
  counts.save_as_text_file(argv[argc - 1]);
  return 0;
}

} // namespace

int main(int argc, char** argv) { return ember::run_app("chaos_wordcount", [&] { return run(argc, argv); }); }
