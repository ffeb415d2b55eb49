#include "api/task.hpp"

#include <cxxabi.h>

#include <exception>
#include <new>
#include <typeinfo>

namespace ember::detail {

namespace {

enum : uint8_t { result_stage = 0, map_stage = 1 };

std::string current_exception_type() {
  auto* t = abi::__cxa_current_exception_type();
  if (!t)
    return "unknown exception";
  int status = 0;
  char* name = abi::__cxa_demangle(t->name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name ? name : t->name();
  std::free(name);
  return out;
}

} // namespace

std::string encode_graph(const node_base& rdd) {
  byte_writer w;
  encoder e{w, true};
  e.node(rdd);
  return std::string{w.view()};
}

node_ptr decode_graph(std::string_view bytes) {
  byte_reader r{bytes};
  decode_context ctx;
  auto n = ctx.decode(r);
  if (!r.at_end())
    throw serde_error("job graph: trailing bytes");
  return n;
}

std::string encode_result_stage(const node_base& rdd, std::string_view result_fn) {
  byte_writer w;
  serialize(w, uint8_t{result_stage});
  encoder e{w, false};
  e.node(rdd);
  w.put(result_fn.data(), result_fn.size());
  return std::string{w.view()};
}

std::string encode_map_stage(const shuffle_writer_base& writer) {
  byte_writer w;
  serialize(w, uint8_t{map_stage});
  encoder e{w, false};
  e.node(writer);
  return std::string{w.view()};
}

task_outcome run_task(std::string_view binary, task_env& env) {
  task_outcome out;
  try {
    byte_reader r{binary};
    auto kind = deserialize<uint8_t>(r);
    decode_context ctx;
    auto root = ctx.decode(r);
    if (kind == map_stage) {
      auto* writer = dynamic_cast<const shuffle_writer_base*>(root.get());
      if (!writer)
        throw serde_error("task binary: a shuffle map stage whose root is not a shuffle writer");
      out.status = writer->write(env.partition, env);
      out.what = task_outcome::kind::map_output;
    } else if (kind == result_stage) {
      auto fn = decode_result_fn(r);
      out.result = fn->run(*root, env.partition, env);
      out.what = task_outcome::kind::result;
    } else {
      throw serde_error("task binary: unknown stage kind " + std::to_string(kind));
    }
  } catch (const fetch_failed_error& e) {
    out.what = task_outcome::kind::fetch_failed;
    out.error_message = e.what();
    out.failed_shuffle = e.shuffle_id;
    out.failed_map = e.map_id;
    out.failed_executor = e.executor_id;
    out.failed_block_corrupt = e.corrupt_block;
  } catch (const std::bad_alloc& e) {
    out.what = task_outcome::kind::error;
    out.error_kind = current_exception_type();
    out.error_message = e.what();
    out.out_of_memory = true;
  } catch (const std::exception& e) {
    out.what = task_outcome::kind::error;
    out.error_kind = current_exception_type();
    out.error_message = e.what();
  } catch (...) {
    out.what = task_outcome::kind::error;
    out.error_kind = current_exception_type();
    out.error_message = "non-standard exception";
  }
  return out;
}

} // namespace ember::detail
