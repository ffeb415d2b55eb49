#include "actors/scheduler_events.hpp"

#include "actors/listener_bus.hpp"

namespace ember::actors {

// -- dag_scheduler -------------------------------------------------------------------------------

wire<proto::ListenerEvent> job_start_event(uint32_t job_id, const std::vector<stage_info>& stages,
                                           const std::string& description) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initJobStart();
    b.setJobId(job_id);
    if (!stages.empty()) {
      auto ids = b.initStageIds(static_cast<unsigned>(stages.size()));
      auto infos = b.initStageInfos(static_cast<unsigned>(stages.size()));
      for (unsigned k = 0; k < stages.size(); ++k) {
        ids.set(k, stages[k].id);
        infos[k].setStageId(stages[k].id);
        infos[k].setName(stages[k].name);
        infos[k].setNumTasks(stages[k].num_tasks);
      }
    }
    b.setTime(epoch_ms());
    b.setDescription(description);
  });
}

wire<proto::ListenerEvent> job_end_event(uint32_t job_id, bool succeeded, const std::string& error) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initJobEnd();
    b.setJobId(job_id);
    b.setTime(epoch_ms());
    if (succeeded)
      b.getResult().setOk();
    else
      b.getResult().setError(error);
  });
}

wire<proto::ListenerEvent> stage_submitted_event(uint32_t stage_id, const stage_run& run,
                                                 const std::vector<uint32_t>& parents) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initStageSubmitted();
    b.setStageId(stage_id);
    b.setAttempt(run.attempt);
    b.setNumTasks(run.num_tasks);
    b.setName(run.name);
    auto ps = b.initParentIds(static_cast<unsigned>(parents.size()));
    for (unsigned k = 0; k < parents.size(); ++k)
      ps.set(k, parents[k]);
    b.setTime(run.submitted);
    auto ops = b.initOperators(static_cast<unsigned>(run.operators.size()));
    for (unsigned k = 0; k < run.operators.size(); ++k) {
      const auto& op = run.operators[k];
      ops[k].setId(op.id);
      ops[k].setName(op.name);
      ops[k].setNumPartitions(op.num_partitions);
      auto op_parents = ops[k].initParentIds(static_cast<unsigned>(op.parent_ids.size()));
      for (unsigned j = 0; j < op.parent_ids.size(); ++j)
        op_parents.set(j, op.parent_ids[j]);
    }
  });
}

wire<proto::ListenerEvent> stage_completed_event(uint32_t stage_id, const stage_run& run,
                                                 const std::string& failure_reason) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initStageCompleted();
    b.setStageId(stage_id);
    b.setAttempt(run.attempt);
    b.setNumTasks(run.num_tasks);
    b.setName(run.name);
    b.setSubmissionTime(run.submitted);
    b.setCompletionTime(epoch_ms());
    b.setFailureReason(failure_reason);
  });
}

// -- task_scheduler ------------------------------------------------------------------------------

namespace {

// The fields taskStart and taskEnd share: which attempt, where, since when.
template <class Builder>
void fill_task_fields(Builder b, uint64_t task_id, const launched_task& t) {
    b.setTaskId(task_id);
    b.setAttempt(t.attempt);
    b.setStageId(t.stage_id);
    b.setStageAttempt(t.stage_attempt);
    b.setPartition(t.partition);
    b.setExecutorId(t.executor_id);
    b.setHost(t.host);
    b.setLocality(t.locality);
    b.setLaunchTime(t.launch_time);
}

} // namespace

wire<proto::ListenerEvent> task_start_event(uint64_t task_id, const launched_task& t, bool speculative) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initTaskStart();
    fill_task_fields(b, task_id, t);
    b.setSpeculative(speculative);
  });
}

wire<proto::ListenerEvent> task_end_event(uint64_t task_id, const launched_task& t, proto::TaskState state,
                                          const std::string& reason, std::optional<proto::TaskError::Reader> error,
                                          std::optional<proto::TaskMetrics::Reader> metrics) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initTaskEnd();
    fill_task_fields(b, task_id, t);
    b.setFinishTime(epoch_ms());
    b.setState(state);
    b.setReason(reason);
    if (error)
      b.setError(*error);
    if (metrics)
      b.setMetrics(*metrics);
  });
}

wire<proto::ListenerEvent> executor_added_event(const std::string& executor_id, const std::string& host, uint32_t cores,
                                                uint64_t max_memory, const std::string& worker_id) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initExecutorAdded();
    b.setExecutorId(executor_id);
    b.setHost(host);
    b.setCores(cores);
    b.setMaxMemory(max_memory);
    b.setWorkerId(worker_id);
    b.setTime(epoch_ms());
  });
}

wire<proto::ListenerEvent> executor_removed_event(const std::string& executor_id, proto::ExecutorLossCause cause,
                                                  const std::string& message) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initExecutorRemoved();
    b.setExecutorId(executor_id);
    b.setCause(cause);
    b.setMessage(message);
    b.setTime(epoch_ms());
  });
}

wire<proto::ListenerEvent> executor_metrics_update_event(const std::string& executor_id,
                                                         const std::vector<running_task_metrics>& tasks) {
  return make_wire<proto::ListenerEvent>([&](proto::ListenerEvent::Builder e) {
    auto b = e.initExecutorMetricsUpdate();
    b.setExecutorId(executor_id);
    b.setTime(epoch_ms());
    auto list = b.initTasks(static_cast<unsigned>(tasks.size()));
    for (unsigned i = 0; i < tasks.size(); ++i) {
      auto& t = tasks[i];
      list[i].setTaskId(t.task_id);
      list[i].setAttempt(t.attempt);
      if (t.stage) {
        list[i].setStageKnown(true);
        list[i].setStageId(t.stage->first);
        list[i].setStageAttempt(t.stage->second);
      }
      list[i].setRunTimeMs(t.run_time_ms);
      list[i].setCpuTimeMs(t.cpu_time_ms);
      list[i].setRemoteFetchesInFlight(t.remote_fetches_in_flight);
    }
  });
}

} // namespace ember::actors
