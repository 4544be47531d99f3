#!/usr/bin/env bash
# scripts/check_layers.sh passes on this tree, and fails, naming the file and
# the rule, on trees that break each rule of docs/DESIGN.md §1.1.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
check="$root/scripts/check_layers.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

"$check" "$root" || { echo "FAIL: the repository breaks the layer order" >&2; failures=1; }

# expect_violation NAME EXPECTED-TEXT: runs the check on $work/NAME, which must fail with it.
expect_violation() {
  local out
  if out=$("$check" "$work/$1" 2>&1); then
    echo "FAIL: $1: the check passed" >&2
    failures=1
  elif ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL: $1: expected \"$2\" in:" >&2
    echo "$out" >&2
    failures=1
  else
    echo "ok: $1"
  fi
}

# A small tree: every layer's folders, each with one header.
make_tree() {
  local t="$work/$1" l
  for l in core log pgoutput values cdc output testing; do
    mkdir -p "$t/include/vil/$l" "$t/src/$l"
    echo '#pragma once' >"$t/include/vil/$l/$l.hpp"
  done
  mkdir -p "$t/src/replication/include/vil/replication" "$t/tools/vil-cdc"
  echo '#pragma once' >"$t/src/replication/include/vil/replication/stream.hpp"
  echo '#pragma once' >"$t/src/replication/private.hpp"
  printf '#include "private.hpp"\n#include "vil/pgoutput/pgoutput.hpp"\n' >"$t/src/replication/stream.cpp"
  printf '#include "vil/replication/stream.hpp"\n#include "vil/core/core.hpp"\n' >"$t/src/cdc/trigger.cpp"
  printf '#include "vil/cdc/cdc.hpp"\n#include "vil/testing/testing.hpp"\n' >"$t/tools/vil-cdc/main.cpp"
  echo "$t"
}

t=$(make_tree clean)
if "$check" "$t" >/dev/null 2>&1; then echo "ok: clean"; else
  echo "FAIL: a tree that keeps the order was refused:" >&2
  "$check" "$t" || true
  failures=1
fi

t=$(make_tree upward)
echo '#include "vil/cdc/cdc.hpp"' >"$t/src/pgoutput/decoder.cpp"
expect_violation upward 'src/pgoutput/decoder.cpp: layer pgoutput includes "vil/cdc/cdc.hpp" of layer cdc, which comes after it'

t=$(make_tree upward_public)
echo '#include "vil/output/output.hpp"' >>"$t/include/vil/values/values.hpp"
expect_violation upward_public 'include/vil/values/values.hpp: layer values includes "vil/output/output.hpp" of layer output'

t=$(make_tree transport_up)
echo '#include "vil/cdc/cdc.hpp"' >>"$t/src/replication/private.hpp"
expect_violation transport_up 'layer replication includes "vil/cdc/cdc.hpp" of layer cdc'

t=$(make_tree private_reach)
echo '#include "replication/private.hpp"' >>"$t/src/cdc/trigger.cpp"
expect_violation private_reach 'src/cdc/trigger.cpp: includes "replication/private.hpp": a private header is included by its bare name'

t=$(make_tree parent_path)
echo '#include "../replication/private.hpp"' >>"$t/src/cdc/trigger.cpp"
expect_violation parent_path 'includes "../replication/private.hpp"'

t=$(make_tree not_installed)
echo '#include "vil/replication/stream.hpp"' >>"$t/include/vil/cdc/cdc.hpp"
expect_violation not_installed 'include/vil/cdc/cdc.hpp: an installed header includes "vil/replication/stream.hpp", which is not installed'

t=$(make_tree testing_used)
echo '#include "vil/testing/testing.hpp"' >>"$t/src/output/output.cpp"
expect_violation testing_used 'layer output includes "vil/testing/testing.hpp": testing stands apart'

t=$(make_tree missing_private)
echo '#include "gone.hpp"' >>"$t/src/log/log.cpp"
expect_violation missing_private 'src/log/log.cpp: includes "gone.hpp", which is not in its own folder'

exit $failures
