# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Documents are tests (tests/recipes.bats): a recipe is read from the document
# itself, never copied into a test, so the two cannot say different things.
# A tested block is the fenced block right after a line
#   <!-- recipe: NAME -->
# in README.md or docs/*.md. The test then puts its own paths and ports in
# place of the document's (DOC_SUBST) and runs the block's lines.
# Load after test_helper: load docs_lib

# doc_block FILE NAME: prints the lines inside the block named NAME in FILE
# (relative to the repository's root); fails the test if there is none.
doc_block() {
	local out
	out=$(awk -v name="$2" '
		$0 == "<!-- recipe: " name " -->" { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		want && !inside && NF { exit }
		inside { print }' "$ROOT/$1")
	[ -n "$out" ] || fail "$1 has no block marked <!-- recipe: $2 -->"
	printf '%s\n' "$out"
}

# DOC_SUBST=(FROM TO FROM TO ...): what doc_subst replaces, in that order.
# A leading "pidlock " (the command found on PATH) becomes "$PIDLOCK ".
DOC_SUBST=()

# doc_subst: stdin to stdout with DOC_SUBST applied to every line.
doc_subst() {
	local line i from to
	while IFS= read -r line || [ -n "$line" ]; do
		for ((i = 0; i + 1 < ${#DOC_SUBST[@]}; i += 2)); do
			from=${DOC_SUBST[i]}
			to=${DOC_SUBST[i + 1]}
			line=${line//"$from"/"$to"}
		done
		[[ $line == "pidlock "* ]] && line="$PIDLOCK ${line#pidlock }"
		printf '%s\n' "$line"
	done
}

# doc_commands FILE NAME: the block's shell commands, one per line, after
# DOC_SUBST: comment lines and blank lines dropped, backslash continuations
# joined. The test runs them itself, one by one, checking between them what
# the document says happens.
doc_commands() {
	local block
	block=$(doc_block "$1" "$2") || return 1
	printf '%s\n' "$block" | awk '
		/^[[:space:]]*#/ || !NF { next }
		{ if (sub(/\\$/, "")) { acc = acc $0; next } print acc $0; acc = "" }' | doc_subst
}

# doc_ini_value FILE NAME KEY: the value of "KEY=" in the block (first one).
doc_ini_value() {
	doc_block "$1" "$2" | sed -n "s/^$3=//p" | head -n 1 | doc_subst
}

# DOC_CMDS: filled by doc_load FILE NAME with the block's commands.
doc_load() {
	local c
	DOC_CMDS=()
	while IFS= read -r c; do DOC_CMDS+=("$c"); done < <(doc_commands "$1" "$2")
	[ "${#DOC_CMDS[@]}" -gt 0 ] || fail "$1, recipe $2: no command"
}

# doc_run N: runs command N of DOC_CMDS with bash, like pl_run ($status,
# $T/out, $T/err), with the test's environment.
doc_run() {
	pl_run bash -c "${DOC_CMDS[$1]}"
}
