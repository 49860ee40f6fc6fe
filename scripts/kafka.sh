#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft) for development and tests, on loopback only.
#   scripts/kafka.sh install          resolve the broker jars from Maven Central into the cache (once)
#   scripts/kafka.sh start [--data D] format D (default: a new dir under $TMPDIR) and start;
#                                     prints KAFKA_BROKERS=... and KAFKA_DATA=<the data dir>
#   scripts/kafka.sh start --data D --keep
#                                     start again a broker that was stopped, on its data and port (a broker
#                                     that was down and comes back, topics and committed offsets intact)
#   scripts/kafka.sh stop  [--data D] stop the broker started with that data dir (default: the last started)
#   scripts/kafka.sh restart [--data D] stop it and start it again on the same dir and port, keeping its data
#   scripts/kafka.sh status [--data D]
# Env: SPACETIME_SYNC_CACHE (default ~/.cache/spacetime-sync), KAFKA_PORT (default: a free port),
#      KAFKA_START_TIMEOUT (seconds, default 60), KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS (the broker's
#      group.min.session.timeout.ms at format time, default Kafka's 6000; chaos runs lower it so a
#      killed consumer's partitions move sooner). See scripts/kafka.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/kafka/pom.xml")"
CACHE="${SPACETIME_SYNC_CACHE:-$HOME/.cache/spacetime-sync}"
HOME_DIR="$CACHE/kafka/$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"

die() { echo "kafka.sh: $*" >&2; exit 1; }

install() {
  if [[ -f "$LIBS/.complete" ]]; then
    echo "kafka $KAFKA_VERSION already installed in $LIBS"
    return
  fi
  command -v java >/dev/null || die "java not found (Java 17+ is needed)"
  command -v mvn >/dev/null || die "mvn not found (Maven resolves the broker jars from Maven Central)"
  echo "resolving Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS"
  rm -rf "$LIBS.partial"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS.partial" \
    || die "maven could not resolve the broker jars"
  rm -rf "$LIBS"
  mv "$LIBS.partial" "$LIBS"
  touch "$LIBS/.complete"
  echo "installed $(ls "$LIBS" | grep -c '\.jar$') jars"
}

# The data dir: --data DIR, else for `start` a fresh dir of its own under $TMPDIR (two starts never
# share or wipe each other's), else for `stop`/`status` the dir of the last `start` on this machine.
LAST_DIR_FILE="$CACHE/kafka/last-data-dir"
data_dir() {
  local mode="$1"; shift
  local dir=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --data) dir="$2"; shift 2 ;;
      --keep) shift ;;  # start's, read there
      *) die "unknown option $1" ;;
    esac
  done
  if [[ -z "$dir" ]]; then
    if [[ "$mode" == start ]]; then
      dir="$(mktemp -d "${TMPDIR:-/tmp}/spacetime-sync-kafka.XXXXXX")"
    elif [[ -f "$LAST_DIR_FILE" ]]; then
      dir="$(cat "$LAST_DIR_FILE")"
    else
      die "no broker started yet; give --data DIR"
    fi
  fi
  mkdir -p "$dir"
  (cd "$dir" && pwd)
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

is_running() {
  local dir="$1"
  [[ -f "$dir/broker.pid" ]] && kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null
}

start() {
  local dir; dir="$(data_dir start "$@")"
  local keep=""
  [[ " $* " == *" --keep "* ]] && keep=1
  mkdir -p "$(dirname "$LAST_DIR_FILE")"
  echo "$dir" > "$LAST_DIR_FILE"
  [[ -f "$LIBS/.complete" ]] || install
  if is_running "$dir"; then
    echo "KAFKA_BROKERS=127.0.0.1:$(cat "$dir/broker.port")"
    echo "KAFKA_DATA=$dir"
    return
  fi
  local jvm=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
             -Dkafka.log.file="$dir/broker.log" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties")
  if [[ -n "$keep" ]]; then
    [[ -f "$dir/server.properties" && -f "$dir/logs/meta.properties" ]] \
      || die "--keep: no broker was formatted in $dir"
    launch "$dir" "$(cat "$dir/broker.port")" "${jvm[@]}"
    return
  fi
  local port="${KAFKA_PORT:-$(free_port)}"
  local cport; cport="$(free_port)"
  [[ "$cport" != "$port" ]] || cport="$(free_port)"
  rm -rf "$dir/logs"
  mkdir -p "$dir/logs"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=${KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS:-6000}
PROPS
  # A KRaft cluster id is 16 random bytes in base64url. One that starts with '-' reads as an option to
  # the storage tool (about 1 run in 64 failed that way), so draw again, as Kafka's own Uuid does.
  local cluster; cluster="$(node -e '
    const { randomBytes } = require("crypto");
    let id;
    do id = randomBytes(16).toString("base64url"); while (id.startsWith("-"));
    console.log(id);')"
  java "${jvm[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" \
    > "$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "formatting KRaft storage failed"; }
  launch "$dir" "$port" "${jvm[@]}"
}

# Starts the broker of a formatted data dir and waits until it reports it started.
launch() {
  local dir="$1" port="$2"; shift 2
  local jvm=("$@")
  : > "$dir/broker.log"
  nohup java "${jvm[@]}" -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" > "$dir/broker.out" 2>&1 &
  echo $! > "$dir/broker.pid"
  echo "$port" > "$dir/broker.port"
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-60} ))
  until grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null; do
    if ! is_running "$dir"; then
      tail -n 40 "$dir/broker.out" "$dir/broker.log" >&2 || true
      die "the broker exited during startup"
    fi
    if (( $(date +%s) > deadline )); then
      tail -n 40 "$dir/broker.log" >&2 || true
      stop --data "$dir" >/dev/null 2>&1 || true
      die "the broker did not come up within ${KAFKA_START_TIMEOUT:-60}s"
    fi
    sleep 0.2
  done
  echo "KAFKA_BROKERS=127.0.0.1:$port"
  echo "KAFKA_DATA=$dir"
}

stop() {
  local dir; dir="$(data_dir stop "$@")"
  if ! is_running "$dir"; then
    rm -f "$dir/broker.pid"
    echo "kafka not running ($dir)"
    return
  fi
  local pid; pid="$(cat "$dir/broker.pid")"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka did not stop within 10s; killing" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/broker.pid"
  echo "kafka stopped ($dir)"
}

# Stops the broker and starts it again on the same data dir and port, keeping its topics, offsets and
# groups (a broker restart, as chaos runs need; `start` would re-format the dir).
restart() {
  local dir; dir="$(data_dir restart "$@")"
  [[ -f "$dir/server.properties" && -f "$dir/broker.port" ]] || die "no broker was started in $dir"
  stop --data "$dir" >/dev/null
  start --data "$dir" --keep
}

status() {
  local dir; dir="$(data_dir status "$@")"
  if is_running "$dir"; then echo "running: KAFKA_BROKERS=127.0.0.1:$(cat "$dir/broker.port") (pid $(cat "$dir/broker.pid"))"
  else echo "not running ($dir)"; return 1; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  restart) restart "$@" ;;
  status) status "$@" ;;
  *) die "usage: scripts/kafka.sh install|start|stop|restart|status [--data DIR]" ;;
esac
