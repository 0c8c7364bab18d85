#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Tab completion for bash, zsh and fish (completions/): each offers exactly
# the subcommands and options the command has, each option taking a value
# exactly when the command's does, and completes values, NAMEs and COMMANDs.
#
# The command's option table is asked of the command itself, not copied
# here: every option word that its --help texts, the man page, the README
# or any completion file mentions is tried on every subcommand, and the
# command's own answer (unknown option, missing value, no value allowed)
# says whether it has that option and whether it takes a value. So a new
# option, documented as every change of behaviour is, fails these tests
# until each completion has it too.

# shellcheck disable=SC2016 # bash -c and fish -c scripts expand in the child, on purpose
load test_helper

bats_require_minimum_version 1.5.0

setup_file() {
	TABLE="$BATS_FILE_TMPDIR/options"
	export TABLE
	command_table >"$TABLE"
}

# The option words (-x, --long) in the text on stdin (the man page's \- too).
option_words() {
	sed 's/\\-/-/g' | perl -ne 'print "$1\n" while /(?<![\w-])(-[A-Za-z]|--[a-z][a-z0-9-]*[a-z0-9])(?!\w)/g'
}

# The subcommands, from the command's usage: "pidlock NAME ...".
subcommands() {
	"$PIDLOCK" --help | sed -n 's/^\(usage:\)\{0,1\} *pidlock \([a-z][a-z]*\) .*/\2/p'
}

# How subcommand $1 takes option $2, as the command answers: unknown,
# required (a value must follow), optional (--opt=V or -oV only) or flag.
probe() {
	local err out
	err=$(cd "$BATS_FILE_TMPDIR" && XDG_RUNTIME_DIR=$BATS_FILE_TMPDIR timeout 5 "$PIDLOCK" "$1" "$2" 2>&1 >/dev/null </dev/null)
	case $err in
	*"unknown option"* | *"unknown or ambiguous option"*) echo unknown; return ;;
	*"missing value for"*) echo required; return ;;
	esac
	local attached=$2=5
	[[ $2 == --* ]] || attached=${2}5
	out=$(cd "$BATS_FILE_TMPDIR" && XDG_RUNTIME_DIR=$BATS_FILE_TMPDIR timeout 5 "$PIDLOCK" "$1" "$attached" 2>&1 </dev/null)
	case $out in
	*"no value allowed"* | *"unknown option"* | usage:*) echo flag ;;
	*) echo optional ;;
	esac
}

# The command's table, one "SUBCOMMAND OPTION HOW" a line; SUBCOMMAND "-"
# for the options before any subcommand (exit 0 alone: --help, --version).
command_table() {
	local words sub w
	words=$(
		{
			"$PIDLOCK" --help
			for sub in $(subcommands); do "$PIDLOCK" "$sub" --help; done
			cat "$ROOT/docs/pidlock.1" "$ROOT/README.md" "$ROOT"/completions/*
		} | option_words | sort -u
	)
	for w in $words; do
		"$PIDLOCK" "$w" >/dev/null 2>&1 </dev/null && echo "- $w flag"
	done
	for sub in $(subcommands); do
		for w in $words; do
			how=$(probe "$sub" "$w")
			[ "$how" = unknown ] || echo "$sub $w $how"
		done
	done
}

# The table's options of subcommand $1 ("-": before any), sorted.
want_options() { awk -v s="$1" '$1 == s { print $2 }' "$TABLE" | sort; }
# ... and those that take a value of the kind $2 (required, optional).
want_taking() { awk -v s="$1" -v k="$2" '$1 == s && $3 == k { print $2 }' "$TABLE" | sort; }

# Fails unless the lines of $2 and $3 (sorted) are the same, saying what $1 lacks and adds.
same_set() {
	local lacks adds
	lacks=$(comm -23 <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) <(printf '%s\n' "$3" | sed '/^$/d' | sort -u))
	adds=$(comm -13 <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) <(printf '%s\n' "$3" | sed '/^$/d' | sort -u))
	[ -z "$lacks$adds" ] || fail "$1: lacks [${lacks//$'\n'/, }], has more [${adds//$'\n'/, }]"
}

@test "completions: the option table, as the command answers, is the one its --help gives" {
	run -0 subcommands
	assert_output "$(printf '%s\n' run status stop check)"
	# The probe reads the command right: a few known answers.
	run -0 grep -c . "$TABLE"
	local line
	for line in "- --version flag" "- -h flag" "run -f required" "run --wait optional" \
		"run -r optional" "run --scope required" "run -q flag" "status --json flag" \
		"status -f required" "stop -t required" "stop --signal required" "check --help flag"; do
		grep -qx -- "$line" "$TABLE" || fail "not in the table: $line"
	done
	! grep -q -- '^run --json \|^check -f \|^status -w ' "$TABLE" || fail "the table has options the command refuses"
	# Every option a subcommand's --help shows is in its row.
	local sub
	for sub in run status stop check; do
		same_set "pidlock $sub --help vs the table" \
			"$("$PIDLOCK" "$sub" --help | option_words | sort -u)" \
			"$(comm -12 <(want_options "$sub") <("$PIDLOCK" "$sub" --help | option_words | sort -u))"
	done
}

# Completes the words given (the last one is being typed) with the bash
# completion; COMPREPLY, one per line, in $output.
complete_bash() {
	run -0 bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMPREPLY=(); _pidlock; printf "%s\n" "${COMPREPLY[@]}"' sh \
		"$ROOT/completions/pidlock.bash" "$@"
}

@test "bash completion: exactly the command's subcommands and options, values where it takes them" {
	cd "$BATS_TEST_TMPDIR"
	complete_bash pidlock ''
	same_set "bash, subcommands" "$(subcommands)" "$output"
	complete_bash pidlock -
	same_set "bash, options before a subcommand" "$(want_options -)" "$output"
	local sub o
	for sub in $(subcommands); do
		complete_bash pidlock "$sub" -
		same_set "bash, pidlock $sub" "$(want_options "$sub")" "$(grep -vx -- -- <<<"$output")"
		# Whether a word after the option is its value: then options are
		# offered after it; else it is the first operand, and none are.
		for o in $(want_options "$sub"); do
			complete_bash pidlock "$sub" "$o" 5 -
			case $(awk -v s="$sub" -v o="$o" '$1 == s && $2 == o { print $3 }' "$TABLE") in
			required | optional) [ -n "$output" ] || fail "bash: pidlock $sub $o 5: 5 is not taken as the value" ;;
			flag) [ -z "$output" ] || fail "bash: pidlock $sub $o 5: 5 is taken as a value of $o" ;;
			esac
			complete_bash pidlock "$sub" "$o" x -
			case $(awk -v s="$sub" -v o="$o" '$1 == s && $2 == o { print $3 }' "$TABLE") in
			required) [ -n "$output" ] || fail "bash: pidlock $sub $o x: x is not taken as the value" ;;
			*) [ -z "$output" ] || fail "bash: pidlock $sub $o x: x is taken as a value of $o" ;;
			esac
		done
	done
}

# The options a block of the zsh completion declares, "OPTION HOW" a line
# (HOW: required for -o+ and --opt=, optional for -o- and --opt=-, else
# flag). Block: "top" (before the subcommand) or a subcommand's case. The
# exclusion lists ('(-q --quiet)') and descriptions ([...]) are left out:
# they name options without declaring them.
zsh_options() {
	awk -v b="$1" '
		b == "top" && /_arguments -C/ { on = 1 }
		b == "top" && on && /->args/ { exit }
		b != "top" && $0 ~ "^\t" b "\\)$" { on = 1; next }
		b != "top" && on && /^\t\t;;/ { exit }
		on' "$ROOT/completions/_pidlock" |
		sed "s/'([^)]*)/'/g; s/\[[^]]*\]//g" |
		grep -oE "[{,'](-[A-Za-z]|--[a-z][a-z0-9-]*[a-z0-9])[-+=]*" |
		sed -E 's/^.(-[A-Za-z]|--[a-z0-9-]*[a-z0-9])(.*)$/\1 \2/' |
		awk '{ h = "flag" } $2 == "+" || $2 == "=" { h = "required" } $2 == "-" || $2 == "=-" { h = "optional" } { print $1, h }' |
		sort -u
}

@test "zsh completion: exactly the command's subcommands and options, values where it takes them" {
	command -v zsh >/dev/null || fail "zsh is missing: scripts/test-deps.sh installs it"
	run -0 zsh -n "$ROOT/completions/_pidlock"
	# #compdef first: compinit reads only the first line.
	run -0 head -n 1 "$ROOT/completions/_pidlock"
	assert_output "#compdef pidlock"
	run -0 grep -o '[a-z]*\\:"' "$ROOT/completions/_pidlock"
	same_set "zsh, subcommands" "$(subcommands)" "${output//\\:\"/}"
	local sub
	for sub in top $(subcommands); do
		local row=$sub
		[ "$sub" != top ] || row=-
		same_set "zsh, pidlock ${sub/top/(no subcommand)}" \
			"$(awk -v s="$row" '$1 == s { print $2, $3 }' "$TABLE")" "$(zsh_options "$sub")"
	done
}

# fish's completions of the command line $1, the words alone, in $output.
complete_fish() {
	run -0 fish --no-config -c 'source $argv[1]; complete -C $argv[2] | string replace -r "\t.*" ""' \
		"$ROOT/completions/pidlock.fish" "$1"
}

@test "fish completion: exactly the command's subcommands and options, values where it takes them" {
	command -v fish >/dev/null || fail "fish is missing: scripts/test-deps.sh installs it"
	run -0 fish -n "$ROOT/completions/pidlock.fish"
	cd "$BATS_TEST_TMPDIR"
	complete_fish "pidlock "
	same_set "fish, subcommands" "$(subcommands)" "$output"
	complete_fish "pidlock -"
	same_set "fish, options before a subcommand" "$(want_options -)" "$output"
	local sub line opts
	for sub in $(subcommands); do
		complete_fish "pidlock $sub -"
		same_set "fish, pidlock $sub" "$(want_options "$sub")" "$output"
		# Which of them take a value (-r or -x): those the command requires
		# one for. (fish has no optional values: -w and -r stay flags.)
		opts=$(grep "^complete -c pidlock -n '__fish_seen_subcommand_from [a-z ]*\\b$sub\\b" \
			"$ROOT/completions/pidlock.fish" | grep -E ' -(r|x)( |$)' |
			grep -oE ' -(s [A-Za-z]|l [a-z][a-z0-9-]*)' | sed 's/^ -s /-/; s/^ -l /--/' | sort -u)
		same_set "fish, pidlock $sub options with a value" "$(want_taking "$sub" required)" "$opts"
	done
}

# Completes the words given (the last one is being typed) with the bash
# completion; COMPREPLY, one per line, in $output.
complete_bash() {
	run -0 bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMPREPLY=(); _pidlock; printf "%s\n" "${COMPREPLY[@]}"' sh \
		"$ROOT/completions/pidlock.bash" "$@"
}

@test "bash completion: subcommands and options" {
	complete_bash pidlock ''
	assert_output "$(printf '%s\n' run status stop check)"
	complete_bash pidlock --
	assert_output "$(printf '%s\n' --help --version)"
	complete_bash pidlock st
	assert_output "$(printf '%s\n' status stop)"
	complete_bash pidlock run --s
	assert_output "$(printf '%s\n' --signal --scope)"
	complete_bash pidlock status --
	assert_output "$(printf '%s\n' --quiet --json --file --help --)"
	complete_bash pidlock stop -f x --t
	assert_output "--timeout"
}

@test "bash completion: option values: scope, on-error, signals" {
	complete_bash pidlock run --scope ''
	assert_output "$(printf '%s\n' process tree)"
	complete_bash pidlock run -f x --scope=t
	assert_output "--scope=tree"
	complete_bash pidlock run --on-error ''
	assert_output "$(printf '%s\n' fail run)"
	complete_bash pidlock stop -s T
	assert_output "$(printf '%s\n' TRAP TERM TSTP TTIN TTOU)"
	complete_bash pidlock run --signal=KI
	assert_output "--signal=KILL"
	complete_bash pidlock run -E ''
	assert_output ""
}

@test "bash completion: status and stop offer the NAMEs in XDG_RUNTIME_DIR" {
	mkdir "$T/xdg" "$T/cwd"
	touch "$T/xdg/web.pid" "$T/xdg/worker.pid" "$T/xdg/notes.txt"
	cd "$T/cwd"
	XDG_RUNTIME_DIR="$T/xdg" complete_bash pidlock status ''
	assert_output "$(printf '%s\n' web worker)"
	XDG_RUNTIME_DIR="$T/xdg" complete_bash pidlock stop -t 3 wo
	assert_output "worker"
	XDG_RUNTIME_DIR="$T/xdg" complete_bash pidlock run -f w
	assert_output "$(printf '%s\n' web worker)"
	# Paths too: a FILE may be one.
	touch "$T/cwd/web-local.pid"
	XDG_RUNTIME_DIR="$T/xdg" complete_bash pidlock status we
	assert_output "$(printf '%s\n' web web-local.pid)"
}

@test "bash completion: without XDG_RUNTIME_DIR, the NAMEs in /tmp/pidlock-UID" {
	# As nobody, whose folder this test leaves as it found it.
	local uid dir made=0
	uid=$(id -u nobody)
	dir=/tmp/pidlock-$uid
	if [ ! -d "$dir" ]; then
		mkdir -m 0700 "$dir"
		chown nobody "$dir"
		made=1
	fi
	local name="bats-completion-$$"
	touch "$dir/$name.pid"
	cp "$ROOT/completions/pidlock.bash" "$T/c.bash"
	chmod 0644 "$T/c.bash"
	run -0 setpriv --reuid nobody --regid nogroup --clear-groups env -u XDG_RUNTIME_DIR \
		bash -c 'cd /; source "$1"; COMP_WORDS=(pidlock stop bats-completion-); COMP_CWORD=2
			_pidlock; printf "%s\n" "${COMPREPLY[@]}"' sh "$T/c.bash"
	rm -f "$dir/$name.pid"
	[ "$made" = 0 ] || rmdir "$dir"
	assert_line "$name"
}

@test "bash completion: after -- or the first operand, COMMAND and its files" {
	mkdir "$T/cwd"
	touch "$T/cwd/data.txt"
	cd "$T/cwd"
	complete_bash pidlock run -f x -- ech
	assert_line "echo"
	complete_bash pidlock run -f x -w 5 ech
	assert_line "echo"
	complete_bash pidlock check -- ech
	assert_line "echo"
	complete_bash pidlock run -f x -- cat da
	assert_output "data.txt"
}

@test "zsh and fish completions: valid, and fish completes as bash does" {
	command -v zsh >/dev/null || fail "zsh is missing: scripts/test-deps.sh installs it"
	command -v fish >/dev/null || fail "fish is missing: scripts/test-deps.sh installs it"
	run -0 zsh -n "$ROOT/completions/_pidlock"
	run -0 head -n 1 "$ROOT/completions/_pidlock"
	assert_output "#compdef pidlock"
	run -0 fish -n "$ROOT/completions/pidlock.fish"
	mkdir "$T/xdg"
	touch "$T/xdg/web.pid"
	XDG_RUNTIME_DIR="$T/xdg" run -0 fish --no-config -c \
		'source $argv[1]; complete -C "pidlock st"; complete -C "pidlock status w"; complete -C "pidlock run --scope "; complete -C "pidlock stop -s KI"' \
		"$ROOT/completions/pidlock.fish"
	assert_line --regexp '^status'
	assert_line --regexp '^stop'
	assert_line --regexp '^web'
	assert_line --regexp '^process'
	assert_line --regexp '^tree'
	assert_line --regexp '^KILL'
}
