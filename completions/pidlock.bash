# SPDX-License-Identifier: MIT
# bash completion for pidlock(1): subcommands, options, option values and
# the NAMEs that exist in the runtime directory. Installed where
# bash-completion loads it on demand (/usr/share/bash-completion/completions);
# needs nothing from bash-completion itself, so it also works sourced alone.
# shellcheck shell=bash

# The NAMEs of PID files pidlock would resolve a NAME to: $XDG_RUNTIME_DIR
# when it is an absolute path, else /tmp/pidlock-UID (README, PIDLOCK_FILE).
_pidlock_names() {
	local dir f
	if [[ ${XDG_RUNTIME_DIR-} == /* ]]; then
		dir=$XDG_RUNTIME_DIR
	else
		dir=/tmp/pidlock-${EUID:-$(id -u)}
	fi
	for f in "$dir"/*.pid; do
		[[ -e $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.pid}"
	done
}

_pidlock_signals='HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM
CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO SYS'

# COMPREPLY from the words in $1 that start with $2, prefixed with $3 (the
# "--opt=" of an attached value).
_pidlock_words() {
	local w
	COMPREPLY=()
	while IFS= read -r w; do
		[[ -n $w ]] && COMPREPLY+=("$3$w")
	done < <(compgen -W "$1" -- "$2")
}

# A FILE: the NAMEs, then paths.
_pidlock_file() {
	local w
	COMPREPLY=()
	while IFS= read -r w; do
		[[ -n $w && $w == "$1"* ]] && COMPREPLY+=("$2$w")
	done < <(_pidlock_names)
	while IFS= read -r w; do
		[[ -n $w ]] && COMPREPLY+=("$2$w")
	done < <(compgen -f -- "$1")
}

_pidlock() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]-} opts i w skip=0 pos=0
	if ((COMP_CWORD == 1)); then
		case $cur in
		-*) _pidlock_words '-h --help -V --version' "$cur" '' ;;
		*) _pidlock_words 'run status stop check' "$cur" '' ;;
		esac
		return 0
	fi
	case $cmd in
	run) opts='-f --file -w --wait -r --replace -s --signal -E --exit-code --scope --on-error
		--label -q --quiet -v --verbose -h --help --' ;;
	status) opts='-q --quiet --json -f --file -h --help --' ;;
	stop) opts='-s --signal -t --timeout -q --quiet -f --file -h --help --' ;;
	check) opts='-h --help --' ;;
	*) return 0 ;;
	esac

	# Where the word is: after "--" or the first operand, run and check
	# complete COMMAND (a command name, then its arguments as files).
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then
			skip=0
		elif ((pos)); then
			pos=$((pos + 1))
		elif [[ $w == -- ]]; then
			pos=1
		elif [[ $w == -f || $w == --file || $w == -s || $w == --signal || $w == -E ||
			$w == --exit-code || $w == --scope || $w == --on-error || $w == --label ||
			$w == -t || $w == --timeout ]]; then
			skip=1
		elif [[ ($w == -w || $w == -r || $w == --wait || $w == --replace) &&
			${COMP_WORDS[i + 1]-} =~ ^[0-9.]+$ && $((i + 1)) -lt $COMP_CWORD ]]; then
			skip=1
		elif [[ $w != -* ]]; then
			pos=2
		fi
	done
	if ((pos)); then
		if [[ $cmd == run || $cmd == check ]]; then
			if ((pos == 1)); then
				_pidlock_words "$(compgen -c -- "$cur" | sort -u)" "$cur" ''
			else
				_pidlock_file "$cur" ''
			fi
		fi
		return 0
	fi
	if ((skip)); then # cur is the value of prev
		case $prev in
		-f | --file) _pidlock_file "$cur" '' ;;
		-s | --signal) _pidlock_words "$_pidlock_signals" "$cur" '' ;;
		--scope) _pidlock_words 'process tree' "$cur" '' ;;
		--on-error) _pidlock_words 'fail run' "$cur" '' ;;
		--label) _pidlock_words cmdline "$cur" '' ;;
		*) COMPREPLY=() ;; # numbers
		esac
		return 0
	fi
	case $cur in
	--scope=*) _pidlock_words 'process tree' "${cur#*=}" --scope= ;;
	--on-error=*) _pidlock_words 'fail run' "${cur#*=}" --on-error= ;;
	--label=*) _pidlock_words cmdline "${cur#*=}" --label= ;;
	--signal=*) _pidlock_words "$_pidlock_signals" "${cur#*=}" --signal= ;;
	--file=*) _pidlock_file "${cur#*=}" --file= ;;
	-*) _pidlock_words "$opts" "$cur" '' ;;
	*)
		case $cmd in
		status | stop) _pidlock_file "$cur" '' ;;
		*) _pidlock_words "$(compgen -c -- "$cur" | sort -u)" "$cur" '' ;;
		esac
		;;
	esac
	return 0
}

complete -F _pidlock pidlock
