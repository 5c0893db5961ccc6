#!/usr/bin/env bash
# Starts a throwaway redis-server for the @heartline/redis tests and stops it.
# Sourced by .ci/run (ci_redis_start / ci_redis_stop); can also be run by hand:
#   source scripts/ci-redis.sh && ci_redis_start && npx vitest run tests/redis-*.test.ts; ci_redis_stop
# It listens on 127.0.0.1 only, on a free port (redis-server itself binds it,
# and a taken port just means trying another: no probe-then-bind race), with
# no persistence (no RDB, no AOF) in a temporary directory.

ci_redis_install() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  echo "[redis] installing redis-server with apt" >&2
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1
}

ci_redis_start() {
  ci_redis_install || { echo "[redis] redis-server could not be installed" >&2; return 1; }
  CI_REDIS_DIR="$(mktemp -d -t heartline-redis.XXXXXX)"
  local attempt port
  for attempt in $(seq 1 20); do
    port=$(( 20000 + RANDOM % 40000 ))
    redis-server --bind 127.0.0.1 --port "$port" --dir "$CI_REDIS_DIR" \
      --save "" --appendonly no --daemonize yes \
      --pidfile "$CI_REDIS_DIR/redis.pid" --logfile "$CI_REDIS_DIR/redis.log" >/dev/null 2>&1
    local i
    for i in $(seq 1 50); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        export REDIS_URL="redis://127.0.0.1:${port}"
        CI_REDIS_PID="$(cat "$CI_REDIS_DIR/redis.pid" 2>/dev/null)"
        echo "[redis] redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on ${REDIS_URL} (pid ${CI_REDIS_PID})" >&2
        return 0
      fi
      # The daemon exits at once when the port is taken: try the next one.
      if [ -f "$CI_REDIS_DIR/redis.log" ] && grep -q "Address already in use" "$CI_REDIS_DIR/redis.log"; then
        : >"$CI_REDIS_DIR/redis.log"
        break
      fi
      sleep 0.1
    done
  done
  echo "[redis] redis-server did not start; log:" >&2
  cat "$CI_REDIS_DIR/redis.log" >&2 2>/dev/null
  return 1
}

ci_redis_stop() {
  if [ -n "${CI_REDIS_PID:-}" ]; then
    kill "$CI_REDIS_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$CI_REDIS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$CI_REDIS_PID" 2>/dev/null || true
    CI_REDIS_PID=""
  fi
  if [ -n "${CI_REDIS_DIR:-}" ]; then rm -rf "$CI_REDIS_DIR"; CI_REDIS_DIR=""; fi
  unset REDIS_URL
}
