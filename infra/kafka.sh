#!/usr/bin/env bash
# Single-node Apache Kafka 4.x broker (KRaft, combined broker+controller) for tests and `make run`.
#
#   infra/kafka.sh fetch|start|stop|status|wait|reset
#
# The jars come from Maven Central through infra/kafka/pom.xml (the Apache download site is not
# reachable everywhere we run). Everything lives under $OPENBEAT_KAFKA_HOME (default
# infra/kafka/run, ignored by git): the data folder, the generated config, the log and the pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka_dir="$here/kafka"
lib="$kafka_dir/lib"
home="${OPENBEAT_KAFKA_HOME:-$kafka_dir/run}"
port="${OPENBEAT_KAFKA_PORT:-9092}"
controller_port="${OPENBEAT_KAFKA_CONTROLLER_PORT:-$((port + 1))}"
data="$home/data"
conf="$home/server.properties"
pidfile="$home/kafka.pid"
logfile="$home/kafka.log"
# Startup on a loaded 2-core machine takes 5-15 s; 90 s leaves room for a cold JIT.
wait_seconds="${OPENBEAT_KAFKA_WAIT:-90}"

log() { echo "kafka: $*" >&2; }

fetch() {
  local stamp="$lib/.fetched"
  if [[ -f "$stamp" && "$stamp" -nt "$kafka_dir/pom.xml" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the broker jars"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required to run the broker"; exit 1; }
  log "fetching broker jars from Maven Central into $lib"
  rm -rf "$lib"
  mvn -q -B -f "$kafka_dir/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$lib" -DincludeScope=runtime
  touch "$stamp"
}

write_config() {
  mkdir -p "$home" "$data"
  cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=3
# One node: every internal topic must live with a replication factor of 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests create many short-lived consumer groups; do not make each wait 3 s for more members.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat > "$home/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      # Joins, rebalances and expired members: what explains a consumer group that waits.
      - name: org.apache.kafka.coordinator.group
        level: INFO
YAML
}

java_run() {
  # shellcheck disable=SC2086
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$home/log4j2.yaml" -cp "$lib/*" "$@"
}

is_running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + wait_seconds))
  # The listener opens before the broker has joined the KRaft quorum; KafkaRaftServer logs
  # "Kafka Server started" only once it serves requests.
  while (( SECONDS < deadline )); do
    if port_open && grep -q "Kafka Server started" "$logfile" 2>/dev/null; then
      return 0
    fi
    if ! is_running; then
      log "broker exited during startup; last log lines:"; tail -n 30 "$logfile" >&2 || true
      exit 1
    fi
    sleep 1
  done
  log "broker did not become ready within ${wait_seconds}s; see $logfile"
  exit 1
}

start() {
  fetch
  if is_running; then
    log "already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    return 0
  fi
  if port_open; then
    log "port $port is taken by another process; set OPENBEAT_KAFKA_PORT"
    exit 1
  fi
  write_config
  if [[ ! -f "$data/meta.properties" ]]; then
    # A fixed cluster id is fine for a throwaway local broker and keeps restarts on the same data.
    java_run kafka.tools.StorageTool format -t "b3BlbmJlYXQtbG9jYWwx" -c "$conf" >/dev/null
  fi
  log "starting on 127.0.0.1:$port (data in $data)"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$home/log4j2.yaml" -cp "$lib/*" kafka.Kafka "$conf" \
    >"$logfile" 2>&1 &
  echo $! > "$pidfile"
  wait_ready
  log "ready on 127.0.0.1:$port"
}

stop() {
  if ! is_running; then
    rm -f "$pidfile"
    return 0
  fi
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "stopped"; return 0; }
    sleep 1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "killed after 30 s"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) if is_running; then echo "running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  reset) stop; rm -rf "$data"; log "data removed" ;;
  *) echo "usage: $0 fetch|start|stop|status|wait|reset" >&2; exit 2 ;;
esac
