#!/usr/bin/env python3
"""The independent reference of tests/integration/ui_rest_test.cpp: recomputes, from the event
log alone, what the driver's REST API and Prometheus metrics must say, and compares.

usage: ui_rest_reference.py EVENT_LOG ANSWERS_DIR
ANSWERS_DIR holds what the test fetched: jobs.json, stages.json, stage-<id>-<attempt>.json,
tasks-<id>-<attempt>.json (taskList, every task, sortBy=ID), summary-<id>-<attempt>.json
(taskSummary at 0,0.25,0.5,0.75,1), allexecutors.json, storage.json, environment.json and
metrics.txt (/metrics/prometheus). Prints one line per mismatch and exits 1, else "ok N".
"""
import json
import math
import os
import sys
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

log_path, answers = sys.argv[1], sys.argv[2]
events = [json.loads(line) for line in open(log_path) if line.strip()]
problems = []
checks = 0


def load(name):
    with open(os.path.join(answers, name)) as f:
        return json.load(f)


def same(what, got, want):
    global checks
    checks += 1
    if got != want:
        problems.append(f"{what}: REST says {got!r}, the event log {want!r}")


def n(v):
    # Cap'n Proto's JSON writes 64-bit integers as strings.
    return int(v) if v is not None else 0


stage_tasks = defaultdict(list)  # (stage, attempt) -> taskEnd bodies
submitted = {}
job_stages = {}
job_infos = {}
blocks = {}
for e in events:
    (kind, body), = e.items()
    if kind == "taskEnd":
        stage_tasks[(body.get("stageId", 0), body.get("stageAttempt", 0))].append(body)
    elif kind == "stageSubmitted":
        submitted[(body.get("stageId", 0), body.get("attempt", 0))] = body
    elif kind == "jobStart":
        job_stages[body.get("jobId", 0)] = body.get("stageIds", [])
        job_infos[body.get("jobId", 0)] = body.get("stageInfos", [])
    elif kind == "blockUpdated":
        key = (body.get("rddId", 0), body.get("partition", 0), body["executorId"])
        blocks[key] = (n(body.get("memSize")), n(body.get("diskSize")))


def finished(tasks):
    return [t for t in tasks if t.get("state") == "finished"]


def metric(t, name):
    return n(t.get("metrics", {}).get(name))


# Stages: counts and sums per attempt.
stages = {(s["stageId"], s["attemptId"]): s for s in load("stages.json")}
for key, sub in submitted.items():
    s = stages.get(key)
    if s is None:
        problems.append(f"stage {key}: missing from /stages")
        continue
    tasks = stage_tasks[key]
    ok = finished(tasks)
    same(f"stage {key} numTasks", s["numTasks"], sub.get("numTasks", 0))
    same(f"stage {key} numCompleteTasks", s["numCompleteTasks"], len(ok))
    same(f"stage {key} numFailedTasks", s["numFailedTasks"],
         len([t for t in tasks if t.get("state") in ("failed", "lost")]))
    same(f"stage {key} shuffleWriteBytes", s["shuffleWriteBytes"], sum(metric(t, "shuffleWriteBytes") for t in tasks))
    same(f"stage {key} shuffleWriteRecords", s["shuffleWriteRecords"],
         sum(metric(t, "shuffleWriteRecords") for t in tasks))
    same(f"stage {key} shuffleReadRecords", s["shuffleReadRecords"], sum(metric(t, "shuffleReadRecords") for t in tasks))
    same(f"stage {key} shuffleReadBytes", s["shuffleReadBytes"],
         sum(metric(t, "shuffleReadRemoteBytes") + metric(t, "shuffleReadLocalBytes") for t in tasks))
    same(f"stage {key} executorRunTime", s["executorRunTime"],
         sum(metric(t, "executorRunTimeNs") // 1000000 for t in tasks))
    same(f"stage {key} name", s["name"], sub.get("name", ""))

    # Every task attempt, in task id order.
    listed = load(f"tasks-{key[0]}-{key[1]}.json")
    want = sorted(tasks, key=lambda t: (n(t.get("taskId")), t.get("attempt", 0)))
    same(f"stage {key} taskList ids", [(t["taskId"], t["attempt"]) for t in listed],
         [(n(t.get("taskId")), t.get("attempt", 0)) for t in want])
    same(f"stage {key} taskList durations", [t["duration"] for t in listed],
         [n(t.get("finishTime")) - n(t.get("launchTime")) for t in want])
    same(f"stage {key} taskList executors", [t["executorId"] for t in listed], [t["executorId"] for t in want])
    same(f"stage {key} taskList shuffle write", [t["taskMetrics"]["shuffleWriteMetrics"]["bytesWritten"] for t in listed],
         [metric(t, "shuffleWriteBytes") for t in want])

    # Quantiles: nearest rank, index floor(q * (n - 1) + 0.5) of the sorted successful values.
    summary = load(f"summary-{key[0]}-{key[1]}.json")
    durations = sorted(n(t.get("finishTime")) - n(t.get("launchTime")) for t in ok)
    qs = [0, 0.25, 0.5, 0.75, 1]
    want_q = [float(durations[min(len(durations) - 1, math.floor(q * (len(durations) - 1) + 0.5))]) for q in qs] \
        if durations else [0.0] * len(qs)
    same(f"stage {key} duration quantiles", summary["duration"], want_q)

    detail = load(f"stage-{key[0]}-{key[1]}.json")
    per_exec = defaultdict(lambda: [0, 0])
    for t in tasks:
        per_exec[t["executorId"]][0] += 1 if t.get("state") == "finished" else 0
        per_exec[t["executorId"]][1] += metric(t, "shuffleWriteBytes")
    same(f"stage {key} executorSummary",
         {k: [v["succeededTasks"], v["shuffleWrite"]] for k, v in detail["executorSummary"].items()},
         {k: v for k, v in per_exec.items()})

# Jobs: every job, with the tasks of its stages.
jobs = {j["jobId"]: j for j in load("jobs.json")}
same("job ids", sorted(jobs), sorted(job_stages))
for job, stage_ids in job_stages.items():
    j = jobs.get(job, {})
    ok = sum(len(finished(stage_tasks[k])) for k in stage_tasks if k[0] in stage_ids)
    same(f"job {job} numCompletedTasks", j.get("numCompletedTasks"), ok)
    same(f"job {job} stageIds", j.get("stageIds"), stage_ids)
    same(f"job {job} status", j.get("status"), "SUCCEEDED")
    same(f"job {job} numTasks", j.get("numTasks"), sum(i.get("numTasks", 0) for i in job_infos[job]))
    ran = {k[0] for k in submitted}
    same(f"job {job} numSkippedTasks", j.get("numSkippedTasks"),
         sum(i.get("numTasks", 0) for i in job_infos[job] if i.get("stageId", 0) not in ran))

# Executors: tasks and shuffle bytes per executor.
all_tasks = [t for ts in stage_tasks.values() for t in ts]
execs = {x["id"]: x for x in load("allexecutors.json")}
added = {e["executorAdded"]["executorId"] for e in events if "executorAdded" in e}
same("executor ids", sorted(execs), sorted(added))
for x in execs.values():
    mine = [t for t in all_tasks if t["executorId"] == x["id"]]
    same(f"executor {x['id']} completedTasks", x["completedTasks"], len(finished(mine)))
    same(f"executor {x['id']} totalShuffleWrite", x["totalShuffleWrite"], sum(metric(t, "shuffleWriteBytes") for t in mine))
    mem = sum(m for (r, p, ex), (m, d) in blocks.items() if ex == x["id"])
    same(f"executor {x['id']} memoryUsed", x["memoryUsed"], mem)

# Storage: the cached partitions the block updates left.
rdds = {r["id"]: r for r in load("storage.json")}
held = defaultdict(set)
for (r, p, ex), (m, d) in blocks.items():
    if m or d:
        held[r].add(p)
same("cached dataset ids", sorted(rdds), sorted(held))
for r, parts in held.items():
    same(f"dataset {r} numCachedPartitions", rdds.get(r, {}).get("numCachedPartitions"), len(parts))
    same(f"dataset {r} memoryUsed", rdds.get(r, {}).get("memoryUsed"),
         sum(m for (rr, p, ex), (m, d) in blocks.items() if rr == r))

# Environment: what the environmentUpdate event carried, origins included.
env = next(e["environmentUpdate"] for e in events if "environmentUpdate" in e)
got = {p["name"]: (p["value"], p["origin"]) for p in load("environment.json")["emberProperties"]}
same("environment", got, {p["name"]: (p.get("value", ""), p.get("origin", "")) for p in env["properties"]})

# Prometheus, through Prometheus' own parser.
samples = {}
for family in text_string_to_metric_families(open(os.path.join(answers, "metrics.txt")).read()):
    for s in family.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
app_id = next(e["applicationStart"]["appId"] for e in events if "applicationStart" in e)


def sample(name, **labels):
    return samples.get((name, tuple(sorted({"app_id": app_id, **labels}.items()))))


same("ember_driver_tasks_total succeeded", sample("ember_driver_tasks_total", state="succeeded"),
     float(len(finished(all_tasks))))
same("ember_driver_jobs_total succeeded", sample("ember_driver_jobs_total", result="succeeded"), float(len(job_stages)))
same("ember_driver_shuffle_write_bytes_total", sample("ember_driver_shuffle_write_bytes_total"),
     float(sum(metric(t, "shuffleWriteBytes") for t in all_tasks)))
for x in execs.values():
    mine = [t for t in all_tasks if t["executorId"] == x["id"]]
    same(f"ember_executor_completed_tasks_total {x['id']}",
         sample("ember_executor_completed_tasks_total", executor_id=x["id"], host=x["hostPort"]),
         float(len(finished(mine))))

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"ok {checks}")
