#!/usr/bin/env bash
# The test command: builds the solution, runs the .NET suites and the Node compatibility suite
# (real @vaultrice/sdk against a real gateway), and ends with "N passed, N failed" over all of them.
# It installs what it needs itself (npm packages from the lock file).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
logs=$(mktemp -d)
passed=0
failed=0

say() { printf '\n=== %s\n' "$*"; }

add_counts() { # $1 passed, $2 failed
  passed=$((passed + $1))
  failed=$((failed + $2))
}

# Adds a suite's summary line to the totals; a suite with no summary, or that failed without
# a failing test (a crash), counts as one failure. $1 summary, $2 exit status, $3/$4 sed scripts.
count_summary() {
  if [ -z "$1" ]; then
    add_counts 0 1
    return
  fi
  local p f
  p=$(sed -E "$3" <<<"$1")
  f=$(sed -E "$4" <<<"$1")
  add_counts "$p" "$f"
  if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
    add_counts 0 1
  fi
}

for tool in dotnet node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "missing prerequisite: $tool (see README.md)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

say "restore and build"
if ! dotnet build OrleansVault.sln -nologo -clp:ErrorsOnly 2>&1 | tee "$logs/build.log"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
if grep -qE "error [A-Z]+[0-9]+" "$logs/build.log"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Before the .NET suites: the unit tests' cross-SDK encryption vectors run the installed @vaultrice/sdk.
npm_ok=0
if [ -f tests/compat/package-lock.json ]; then
  say "npm ci (tests/compat)"
  if (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error); then
    npm_ok=1
  fi
fi

for project in tests/OrleansVault.UnitTests tests/OrleansVault.IntegrationTests; do
  [ -d "$project" ] || continue
  say "dotnet test $project"
  dotnet test "$project" --no-build -nologo 2>&1 | tee "$logs/test.log"
  status=${PIPESTATUS[0]}
  summary=$(grep -E "^(Passed|Failed)!" "$logs/test.log" | tail -n 1)
  count_summary "$summary" "$status" 's/.*Passed: *([0-9]+).*/\1/' 's/.*Failed: *([0-9]+),.*/\1/'
done

if [ -f tests/compat/run.mjs ]; then
  say "Node compatibility suite (@vaultrice/sdk)"
  if [ "$npm_ok" -ne 1 ]; then
    echo "npm ci failed"
    add_counts 0 1
  else
    node tests/compat/run.mjs 2>&1 | tee "$logs/compat.log"
    status=${PIPESTATUS[0]}
    summary=$(grep -E "^compat: [0-9]+ passed, [0-9]+ failed" "$logs/compat.log" | tail -n 1)
    count_summary "$summary" "$status" 's/compat: ([0-9]+) passed.*/\1/' 's/.* ([0-9]+) failed.*/\1/'
  fi
fi

rm -rf "$logs"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
