#!/usr/bin/env bash
# Checks the layer order of docs/DESIGN.md §1.1 on every #include of the
# library, the programs and the throwaway cluster:
#
#   scripts/check_layers.sh [ROOT]
#
# - a layer includes only its own headers and the public headers of the
#   layers before it in the order core, log, pgoutput, values, replication,
#   cdc, output (the replication layer's public headers are its interface to
#   cdc, src/replication/include/vil/replication/);
# - testing includes nothing of the other layers, and no layer includes it;
# - a private header is included by bare name from its own folder, never by a
#   path into another folder ("../", "cdc/x.hpp");
# - an installed header (include/vil/) includes only installed headers.
# The programs in tools/ sit above every layer. Prints each violation and
# exits 1 if there is one.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
order=(core log pgoutput values replication cdc output)
rank() {
  local i
  for i in "${!order[@]}"; do
    [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }
  done
  case "$1" in
    testing) echo 100 ;;  # apart: checked on its own
    tools) echo 1000 ;;
    *) echo -1 ;;
  esac
}

violations=0
report() {
  echo "$1: $2" >&2
  violations=$((violations + 1))
}

# layer_of PATH (relative to root): the layer a file belongs to, or empty.
layer_of() {
  case "$1" in
    include/vil/*/*) local rest=${1#include/vil/}; echo "${rest%%/*}" ;;
    src/*/*) local rest=${1#src/}; echo "${rest%%/*}" ;;
    tools/*) echo tools ;;
  esac
}

cd "$root"
while IFS= read -r file; do
  layer=$(layer_of "$file")
  [ -n "$layer" ] || continue
  own=$(rank "$layer")
  dir=$(dirname "$file")
  while IFS= read -r line; do
    target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$line")
    case "$target" in
      vil/*/*)
        used=${target#vil/}
        used=${used%%/*}
        if [[ "$file" == include/* ]] && [ ! -f "include/$target" ]; then
          report "$file" "an installed header includes \"$target\", which is not installed"
        elif [ "$used" != "$layer" ]; then
          if [ "$layer" = testing ] || [ "$used" = testing ] && [ "$layer" != tools ]; then
            report "$file" "layer $layer includes \"$target\": testing stands apart from the library"
          elif [ "$(rank "$used")" -lt 0 ]; then
            report "$file" "includes \"$target\" of no known layer"
          elif [ "$(rank "$used")" -gt "$own" ]; then
            report "$file" "layer $layer includes \"$target\" of layer $used, which comes after it"
          fi
        fi
        ;;
      */*)
        report "$file" "includes \"$target\": a private header is included by its bare name from its own folder"
        ;;
      *)
        [ -f "$dir/$target" ] ||
          report "$file" "includes \"$target\", which is not in its own folder $dir"
        ;;
    esac
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(find include src tools -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) | sort)

if [ "$violations" -gt 0 ]; then
  echo "check_layers: $violations include(s) break the layer order (docs/DESIGN.md §1.1)" >&2
  exit 1
fi
echo "check_layers: every include keeps the layer order"
