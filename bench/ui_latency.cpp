// ui_latency: how fast the driver's web UI answers with a big stage behind it (issue 17 targets:
// a stage page with 100,000 tasks answers its first page in <= 100 ms; /metrics/prometheus in
// <= 10 ms). Runs ctx.range(0, TASKS, 1, TASKS).count() with the UI on, then asks its own UI,
// over HTTP on loopback, REPEAT times each:
//
//   ui_latency [--conf k=v]... [TASKS [REPEAT]]        (defaults 100000, 20)
//
// One machine-readable line per request: `ui_request path=P p50_ms=A max_ms=B bytes=N`.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <ember/ember.hpp>

namespace {

// A loopback port nobody listens on now, for the UI (its URL is not part of the public API).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int run(int argc, char** argv, int port) {
  auto ctx = ember::context::create(argc, argv);
  int64_t tasks = argc > 1 ? std::stoll(argv[1]) : 100000;
  int repeat = argc > 2 ? std::stoi(argv[2]) : 20;
  if (tasks < 1 || repeat < 1) {
    std::cerr << "usage: ui_latency [--conf k=v]... [TASKS [REPEAT]]\n";
    return 2;
  }
  if (ctx.range(0, tasks, 1, static_cast<uint32_t>(tasks)).count() != static_cast<uint64_t>(tasks))
    return 1;
  httplib::Client http("127.0.0.1", port);
  auto apps = http.Get("/api/v1/applications");
  if (!apps || apps->status != 200) {
    std::cerr << "ui_latency: no UI on port " << port << '\n';
    return 1;
  }
  // The UI's store sees the job's events a moment after count() returns.
  std::string app = nlohmann::json::parse(apps->body)[0]["id"];
  auto base = "/api/v1/applications/" + app;
  for (int i = 0; i < 1000; ++i) {
    auto s = http.Get((base + "/stages/0/0").c_str());
    if (s && s->status == 200 && nlohmann::json::parse(s->body)["status"] == "COMPLETE")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  const std::vector<std::string> paths = {
    base + "/stages/0/0/taskList?offset=0&length=20&sortBy=ID",
    base + "/stages/0/0/taskList?offset=0&length=20&sortBy=-runtime",
    base + "/stages/0/0/taskSummary?quantiles=0,0.25,0.5,0.75,1",
    base + "/stages/0/0",
    "/stages/stage/?id=0&attempt=0",
    "/metrics/prometheus",
  };
  for (const auto& path : paths) {
    std::vector<double> ms;
    std::size_t bytes = 0;
    for (int i = 0; i < repeat; ++i) {
      auto t = std::chrono::steady_clock::now();
      auto r = http.Get(path.c_str());
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
      if (!r || r->status != 200) {
        std::cerr << "ui_latency: GET " << path << " failed\n";
        return 1;
      }
      bytes = r->body.size();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("ui_request path=%s p50_ms=%.2f max_ms=%.2f bytes=%zu\n", path.c_str(), ms[ms.size() / 2], ms.back(),
                bytes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int port = free_port();
  // The port goes in as a --conf of our own, before the user's (theirs win).
  std::vector<std::string> args{argv[0], "--conf", "ember.ui.port=" + std::to_string(port), "--conf",
                                "ember.ui.host=127.0.0.1"};
  for (int i = 1; i < argc; ++i)
    args.emplace_back(argv[i]);
  std::vector<char*> ptrs;
  for (auto& a : args)
    ptrs.push_back(a.data());
  int n = static_cast<int>(ptrs.size());
  ptrs.push_back(nullptr);
  return ember::run_app("ui_latency", [&] { return run(n, ptrs.data(), port); });
}
