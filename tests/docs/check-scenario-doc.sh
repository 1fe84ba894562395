#!/usr/bin/env bash
# Fails when docs/scenarios.md misses a name the scenario format accepts.
#
#   check-scenario-doc.sh QEDISIM DOC [SOURCE_DIR]
#
# QEDISIM is the built binary, DOC the reference page, SOURCE_DIR the project
# root (default: two levels above this script). Every name below must appear
# in DOC as a whole word inside an inline code span (`...`; fenced code
# blocks do not count, so a name is documented in the text or a table, not
# only in an example):
#
#   failpoint    first column of `QEDISIM points`
#   parameter    first column of `QEDISIM params`
#   action       the `do:` values: the ActionKind name table,
#                QEDISIM_DEFINE_NAMES(ActionKind, N, "...", ...) in
#                common/vocabulary.cpp (the loader parses `do:` with it)
#   key          every key list the loader hands to map_of() as a literal,
#                map_of(node, "what", {"key", ...}) in
#                sim/scenario/loader.cpp: the scenario root, sessions,
#                workload, failpoints, actions and expect entries, and
#                fixes, nth, on, delay range, drop and expect.final
#   match key    the loader's kKeys table in match() ({"session", kMatch...})
#   action arg   the `allowed = {...}` lists of action_args()
#   word         failpoint action words (push_back("drop")) and the fixed
#                scalars the loader compares with (== "all", == "true")
#   value        every other name table of common/vocabulary.cpp and
#                sim/scenario/vocabulary.cpp (op, function, type, gfp, flag,
#                level, respond, eh_max_level, invariant ids)
#
# Prints every missing name and exits 1; prints one OK line and exits 0 when
# none is missing; exits 2 on bad usage or when an extraction finds nothing
# (a changed source layout must not make the check pass vacuously).
# Needs bash, awk and perl (perl-base, always installed on Debian).
set -euo pipefail

me=check-scenario-doc
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 QEDISIM DOC [SOURCE_DIR]" >&2
  exit 2
fi
qedisim=$1
doc=$2
src=${3:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

die() {
  echo "$me: $*" >&2
  exit 2
}

[[ -x $qedisim ]] || die "$qedisim is not an executable"
[[ -f $doc ]] || die "$doc: no such file"
loader=$src/sim/scenario/loader.cpp
tables=("$src/common/vocabulary.cpp" "$src/sim/scenario/vocabulary.cpp")
for f in "$loader" "${tables[@]}"; do
  [[ -f $f ]] || die "$f: no such file (SOURCE_DIR wrong?)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
required=$work/required # category <TAB> name <TAB> origin

# need CATEGORY ORIGIN: names on stdin, one a line; none at all is an error.
need() {
  local category=$1 origin=$2 n=0 name
  while IFS= read -r name; do
    [[ -n $name ]] || continue
    printf '%s\t%s\t%s\n' "$category" "$name" "$origin" >>"$required"
    n=$((n + 1))
  done
  ((n > 0)) || die "found no $category in $origin"
}

# The binary's catalogs: first column after the header line.
first_column() {
  local sub=$1 header=$2 out
  out=$("$qedisim" "$sub") || die "'$qedisim $sub' failed"
  [[ $(awk 'NR == 1 { print $1 }' <<<"$out") == "$header" ]] || die "unexpected first line of '$qedisim $sub'"
  awk 'NR > 1 && NF { print $1 }' <<<"$out"
}
first_column points point | need failpoint "\`qedisim points\`"
first_column params param | need parameter "\`qedisim params\`"

# Name tables: QEDISIM_DEFINE_NAMES(Enum, N, "a", "b", ...) -> "Enum<TAB>name"
# lines; a table whose declared size differs from the names parsed is an error.
perl -0777 -ne '
  while (/QEDISIM_DEFINE_NAMES\(\s*(\w+)\s*,\s*(\d+)\s*,(.*?)\)\s*$/msg) {
    my ($enum, $count, $body) = ($1, $2, $3);
    my @names = $body =~ /"([^"]*)"/g;
    die "$ARGV: $enum declares $count names but " . scalar(@names) . " were parsed\n" if @names != $count;
    print "$enum\t$_\n" for @names;
  }' "${tables[@]}" >"$work/tables" || die "cannot parse the name tables"
awk -F'\t' '$1 == "ActionKind" { print $2 }' "$work/tables" | need action "the ActionKind name table"
awk -F'\t' '$1 != "ActionKind" { print $1 }' "$work/tables" | sort -u >"$work/enums"
while IFS= read -r enum; do
  awk -F'\t' -v e="$enum" '$1 == e { print $2 }' "$work/tables" | need "value ($enum)" "the $enum name table"
done <"$work/enums"

# map_of(node, "what", {"key", ...}) -> "what<TAB>key" lines. Every map_of()
# call with a literal key list must have that form, so none goes unchecked.
perl -0777 -ne '
  my $literal = () = /map_of\((?:(?!\);).)*?\{"/sg;
  my $parsed = 0;
  while (/map_of\(\s*[^,()]+,\s*"([^"]*)"\s*,\s*\{([^{}]*)\}\s*\)/sg) {
    my ($what, $body) = ($1, $2);
    $parsed++;
    print "$what\t$_\n" for $body =~ /"([^"]*)"/g;
  }
  die "$literal map_of() calls with a literal key list, $parsed of the form map_of(node, \"what\", {...})\n"
    if $literal != $parsed;' "$loader" >"$work/keys" || die "cannot parse the map_of() key lists of $loader"
for what in "the scenario" "a sessions entry" "a workload entry" "a failpoints entry" "an actions entry" \
  "expect" "expect.final" "fixes" "on" "nth"; do
  awk -F'\t' -v w="$what" '$1 == w { found = 1 } END { exit !found }' "$work/keys" ||
    die "no map_of(..., \"$what\", {...}) key list in $loader"
done
cut -f1 "$work/keys" | awk '!seen[$0]++' >"$work/whats"
while IFS= read -r what; do
  awk -F'\t' -v w="$what" '$1 == w { print $2 }' "$work/keys" | need "key ($what)" "the loader's map_of() lists"
done <"$work/whats"

perl -0777 -ne 'print "$1\n" while /\{\s*"(\w+)"\s*,\s*kMatch\w+\s*\}/g' "$loader" |
  need "match key" "the loader's match() kKeys table"
perl -0777 -ne 'while (/allowed\s*=\s*\{([^{}]*)\}\s*;/g) { my $b = $1; print "$1\n" while $b =~ /"([^"]*)"/g }' \
  "$loader" | awk '!seen[$0]++' | need "action arg" "the loader's action_args() lists"
perl -0777 -ne 'print "$1\n" while /push_back\("([A-Za-z0-9_.]+)"\)/g;
                print "$1\n" while /(?:Scalar\(\)|\bv)\s*==\s*"([A-Za-z0-9_.]+)"/g' "$loader" |
  awk 'NF && !seen[$0]++' | need word "the loader's literals"

# The words of the doc's inline code spans, outside fenced blocks.
perl -ne '
  if (/^(```|~~~)/) { $fence = !$fence; next }
  next if $fence;
  while (/`([^`]+)`/g) {
    for my $w (split /[^A-Za-z0-9_.-]+/, $1) {
      next if $w eq "";
      print "$w\n";
      (my $t = $w) =~ s/^\.+|\.+$//g;
      print "$t\n" if $t ne "" && $t ne $w;
    }
  }' "$doc" | sort -u >"$work/documented"

awk -F'\t' -v doc="$doc" '
  FNR == NR { documented[$0] = 1; next }
  !($2 in documented) && !seen[$1 FS $2]++ {
    printf "missing in %s: %s `%s` (from %s)\n", doc, $1, $2, $3
    missing++
  }
  {
    group = $1; sub(/ \(.*/, "", group)
    if (!(group in count)) order[++groups] = group
    if (!seen_in[group FS $2]++) count[group]++
  }
  END {
    if (missing) {
      printf "check-scenario-doc: %d name(s) not documented in backticks\n", missing
      exit 1
    }
    summary = ""
    for (i = 1; i <= groups; i++) summary = summary (i > 1 ? ", " : "") count[order[i]] " " order[i] "s"
    printf "OK: %s names every scenario key, parameter, failpoint, action and value (%s)\n", doc, summary
  }' "$work/documented" "$required"
