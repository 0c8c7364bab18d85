# SPDX-License-Identifier: MIT
# fish completion for pidlock(1): subcommands, options, option values and the
# NAMEs that exist in the runtime directory. Installed in
# /usr/share/fish/vendor_completions.d.

# The NAMEs of PID files: $XDG_RUNTIME_DIR when absolute, else /tmp/pidlock-UID.
function __pidlock_names
    set -l dir /tmp/pidlock-(id -u)
    if string match -q '/*' -- "$XDG_RUNTIME_DIR"
        set dir $XDG_RUNTIME_DIR
    end
    for f in $dir/*.pid
        string replace -r '\.pid$' '' -- (basename $f)
    end
end

set -l __pidlock_cmds run status stop check
set -l __pidlock_signals HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO SYS

complete -c pidlock -f
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -a run -d 'run COMMAND holding the lock'
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -a status -d 'show who holds the lock'
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -a stop -d 'stop the instance holding the lock'
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -a check -d 'say whether the library will enter COMMAND'
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -s h -l help -d 'show the usage'
complete -c pidlock -n "not __fish_seen_subcommand_from $__pidlock_cmds" -s V -l version -d 'show the version'

# run
complete -c pidlock -n '__fish_seen_subcommand_from run status stop' -s f -l file -r -F -a '(__pidlock_names)' -d 'the PID file, a path or a NAME'
complete -c pidlock -n '__fish_seen_subcommand_from run' -s w -l wait -d 'wait for the running instance (at most SECS)'
complete -c pidlock -n '__fish_seen_subcommand_from run' -s r -l replace -d 'stop the running instance first'
complete -c pidlock -n '__fish_seen_subcommand_from run stop' -s s -l signal -x -a "$__pidlock_signals" -d 'the first signal'
complete -c pidlock -n '__fish_seen_subcommand_from run' -s E -l exit-code -x -d 'exit status when another instance runs'
complete -c pidlock -n '__fish_seen_subcommand_from run' -l scope -x -a 'process tree' -d 'whether executed children keep the lock'
complete -c pidlock -n '__fish_seen_subcommand_from run' -l on-error -x -a 'fail run' -d 'when the lock cannot be set up'
complete -c pidlock -n '__fish_seen_subcommand_from run' -l label -x -a 'cmdline' -d 'cluster mode: what the holder publishes'
complete -c pidlock -n '__fish_seen_subcommand_from run' -s v -l verbose -d 'one line per step on stderr'
complete -c pidlock -n '__fish_seen_subcommand_from run check' -a '(__fish_complete_subcommand --fcs-skip=2)'
# status, stop
complete -c pidlock -n '__fish_seen_subcommand_from status stop' -F -a '(__pidlock_names)' -d 'PID file NAME'
complete -c pidlock -n '__fish_seen_subcommand_from status' -l json -d 'one JSON object'
complete -c pidlock -n '__fish_seen_subcommand_from stop' -s t -l timeout -x -d 'seconds before SIGKILL'
complete -c pidlock -n '__fish_seen_subcommand_from run status stop' -s q -l quiet -d 'less output'
complete -c pidlock -n '__fish_seen_subcommand_from run status stop check' -s h -l help -d 'show the usage'
