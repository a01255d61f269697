# fish completion for hvterm. Install as
# /usr/share/fish/vendor_completions.d/hvterm.fish (or ~/.config/fish/completions/hvterm.fish).
#
# Completes subcommands, their options (with values where they are enumerable), TARGETs (local,
# unix:PATH, hybrid:PATH:PORT, vsock:, hv:, the names of the config file), the unix: and pipe: forms
# of `nc`'s DESTINATION, and, for `attach` and `kill`, the ids of the sessions
# the agent has: it runs `hvterm ls TARGET --json` (1 s connect timeout, errors ignored). For the
# `local` target it asks only when the local agent's socket already exists, so pressing TAB never
# starts an agent. Words after `--` (or after the command of `shell`/`exec`) are the remote command
# and are completed as a command line of their own.

# Where the cursor is. Prints three lines: the subcommand (or nothing), what the current token is
# (sub, target, session, destination, cmdstart, command, value or other) and, for `command`, the index of the
# first token of the remote command.
function __hvterm_where
    set -l tokens (commandline -opc)
    set -l valued -F --config -p --port --connect-timeout --token-file -e --escape --keepalive --dead-timeout \
        --reconnect-timeout --log --record -u --user -w --workdir --env -s --signal --wait -n --name \
        -L --local -R --remote --target
    set -l sub
    set -l npos 0
    set -l i 2
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        if test -z "$sub"
            if not string match -q -- '-*' $w
                set sub $w
            end
        else if test "$w" = --
            printf '%s\n' $sub command (math $i + 1)
            return
        else if string match -q -- '-?*' $w
            if contains -- $w $valued; and not contains -- $sub vms service-id port
                if test $i -eq (count $tokens)
                    printf '%s\n' $sub value 0
                    return
                end
                set i (math $i + 1)
            end
        else
            if contains -- $sub shell exec; and test $npos -ge 1
                printf '%s\n' $sub command $i
                return
            end
            set npos (math $npos + 1)
        end
        set i (math $i + 1)
    end
    set -l what other
    if test -z "$sub"
        set what sub
    else if string match -q -- '-*' (commandline -ct)
        set what other
    else
        switch $sub:$npos
            case shell:0 exec:0 nc:0 forward:0 attach:0 ls:0 kill:0 ping:0
                set what target
            case config:0
                set what name
            case shell:1 exec:1
                set what cmdstart
            case attach:1 kill:1
                set what session
            case nc:1
                set what destination
            case 'cp:*'
                set what file
        end
    end
    printf '%s\n' "$sub" $what 0
end

# True when completing an option of one of the given subcommands.
function __hvterm_option_of
    set -l where (__hvterm_where)
    contains -- "$where[1]" $argv; and contains -- $where[2] other value target name session destination cmdstart
end

function __hvterm_at
    test (__hvterm_where)[2] = $argv[1]
end

function __hvterm_targets
    set -l token (commandline -ct)
    switch $token
        case 'unix:*'
            for path in (__fish_complete_path (string replace -r '^unix:' '' -- $token))
                printf 'unix:%s\n' $path
            end
        case 'hybrid:*'
            for path in (__fish_complete_path (string replace -r '^hybrid:' '' -- $token))
                printf 'hybrid:%s\n' $path
            end
        case 'vsock:*' 'hv:*'
            # a CID or a VM GUID: nothing we can know here
        case '*'
            printf '%s\t%s\n' local 'a per-user agent on this machine' \
                unix: 'an agent on a Unix socket (unix:PATH)' \
                vsock: 'AF_VSOCK (vsock:CID[:PORT])' \
                hybrid: 'Firecracker / Cloud Hypervisor vsock (hybrid:PATH:PORT)' \
                hv: 'AF_HYPERV on a Windows host (hv:VMID[:SERVICE])'
            __hvterm_names
    end
end

# The names of the config file (-F FILE when the line has one); `hvterm config --names` only reads files.
function __hvterm_names
    set -l tokens (commandline -opc)
    set -l config
    for i in (seq 2 (count $tokens))
        switch $tokens[$i]
            case -F --config
                set config $tokens[$i] $tokens[(math $i + 1)]
            case '--config=*' '-F?*'
                set config $tokens[$i]
        end
    end
    set -l program $tokens[1]
    string match -q -- '~/*' $program; and set program $HOME/(string sub -s 3 -- $program)
    for name in ($program config --names $config 2>/dev/null </dev/null)
        printf '%s\t%s\n' $name 'configured name'
    end
end

# The 8-character id prefixes of the agent's sessions, with their state and command.
function __hvterm_sessions
    set -l tokens (commandline -opc)
    set -l sub $tokens[2]
    set -l valued --connect-timeout -e --escape --keepalive --dead-timeout --reconnect-timeout --log --record -s --signal -n --name \
        -L --local -R --remote
    set -l conn
    set -l target
    set -l i 3
    while test $i -le (count $tokens)
        set -l w $tokens[$i]
        switch $w
            case -F --config -p --port --token-file
                set -a conn $w $tokens[(math $i + 1)]
                set i (math $i + 1)
            case '--config=*' '--port=*' '--token-file=*' '-F?*' '-p?*'
                set -a conn $w
            case '-*'
                contains -- $w $valued; and set i (math $i + 1)
            case '*'
                set target $w
                break
        end
        set i (math $i + 1)
    end
    test -n "$target"; or return
    if test "$target" = local
        set -l base "$XDG_RUNTIME_DIR"
        if test -z "$base"
            set -l tmp /tmp
            test -n "$TMPDIR"; and set tmp "$TMPDIR"
            set base $tmp/hvterm-(id -u)
        end
        test -S $base/hvterm/agent.sock; or return
    end
    set -l program $tokens[1]
    string match -q -- '~/*' $program; and set program $HOME/(string sub -s 3 -- $program)
    set -l run $program ls $target --json --connect-timeout 1s -q $conn
    command -q timeout; and set run timeout 3 $run
    for line in ($run 2>/dev/null </dev/null)
        set -l m (string match -r -g -- '"id": *"([0-9a-f]{8})[0-9a-f]*", *"state": *"([a-z]+)".*"command": *"(.*)"\}' $line)
        or continue
        test "$sub" = kill; and test "$m[2]" = exited; and continue
        printf '%s\t%s %s\n' $m[1] $m[2] $m[3]
        set -l name (string match -r -g -- '"name": *"([A-Za-z0-9._-]+)"' $line)
        and printf '%s\t%s %s %s\n' $name $m[1] $m[2] $m[3]
    end
end

# nc's DESTINATION: [HOST:]PORT is free-form; unix:PATH and pipe:NAME name things in the guest, not here.
function __hvterm_destinations
    string match -q -- '*:*' (commandline -ct); and return
    printf '%s\t%s\n' unix: 'a Unix socket in the guest (unix:PATH)' pipe: 'a named pipe in a Windows guest (pipe:NAME)'
end

function __hvterm_escapes
    printf '%s\t%s\n' none 'No escape character' '~' 'The default' % 'A percent sign'
end

# Where the command of shell/exec begins: `--` first.
function __hvterm_command_start
    set -l token (commandline -ct)
    if test -z "$token"
        printf '%s\n' --\t'The remote command follows'
    else
        complete -C $token
    end
end

# The remote command: complete the words from its first one as a command line of their own.
function __hvterm_remote
    set -l where (__hvterm_where)
    set -l tokens (commandline -opc)
    set -l rest
    if test $where[3] -le (count $tokens)
        set rest $tokens[$where[3]..-1]
    end
    complete -C (string join -- ' ' (string escape -- $rest) (commandline -ct))
end

complete -c hvterm -f

# Subcommands and top-level options.
complete -c hvterm -n '__hvterm_at sub' -s h -l help -d 'Print help and exit'
complete -c hvterm -n '__hvterm_at sub' -l version -d 'Print version and exit'
complete -c hvterm -n '__hvterm_at sub' -a shell -d 'Interactive session on a PTY'
complete -c hvterm -n '__hvterm_at sub' -a exec -d 'Run a command; stdio piped, exit code returned'
complete -c hvterm -n '__hvterm_at sub' -a nc -d 'stdin/stdout to a port or socket in the guest (ssh ProxyCommand)'
complete -c hvterm -n '__hvterm_at sub' -a cp -d 'Copy files and directories into or out of the guest'
complete -c hvterm -n '__hvterm_at sub' -a forward -d 'Forward TCP ports to and from the guest (like ssh -L/-R)'
complete -c hvterm -n '__hvterm_at sub' -a attach -d 'Reattach to a detached session, or join one that is shown'
complete -c hvterm -n '__hvterm_at sub' -a ls -d "List the agent's sessions"
complete -c hvterm -n '__hvterm_at sub' -a kill -d "Signal a session's process, or close the session"
complete -c hvterm -n '__hvterm_at sub' -a ping -d 'Check that the agent answers'
complete -c hvterm -n '__hvterm_at sub' -a vms -d 'List the VMs this host can reach'
complete -c hvterm -n '__hvterm_at sub' -a config -d 'Named targets of the config file'
complete -c hvterm -n '__hvterm_at sub' -a service-id -d 'Hyper-V service GUID of a vsock port'
complete -c hvterm -n '__hvterm_at sub' -a port -d 'vsock port of a Hyper-V service GUID'
complete -c hvterm -n '__hvterm_at sub' -a register -d 'Register the service on a Hyper-V host'

# Positional arguments.
complete -c hvterm -n '__hvterm_at target' -a '(__hvterm_targets)'
complete -c hvterm -n '__hvterm_at name' -a '(__hvterm_names)'
complete -c hvterm -n '__hvterm_at session' -a '(__hvterm_sessions)'
complete -c hvterm -n '__hvterm_at destination' -a '(__hvterm_destinations)'
complete -c hvterm -n '__hvterm_at file' -F
complete -c hvterm -n '__hvterm_at cmdstart' -a '(__hvterm_command_start)'
complete -c hvterm -n '__hvterm_at command' -a '(__hvterm_remote)'

# Options.
set -l all shell exec nc cp forward attach ls kill ping vms config service-id port register
set -l conn shell exec nc forward attach ls kill ping
set -l session shell exec attach
set -l resume $session nc cp forward
set -l opens shell exec
set -l forwards shell exec forward
complete -c hvterm -n "__hvterm_option_of $all" -s h -l help -d 'Print help and exit'
complete -c hvterm -n "__hvterm_option_of $conn register" -s p -l port -x -d 'Agent port (default 18518)'
# cp: -p is --preserve (as for cp and scp), the port --port alone.
complete -c hvterm -n '__hvterm_option_of cp' -l port -x -d 'Agent port (default 18518)'
complete -c hvterm -n '__hvterm_option_of cp' -s p -l preserve -d 'Keep mode and modification time (and owner when root)'
complete -c hvterm -n '__hvterm_option_of cp' -s r -l recursive -d 'Copy directories and everything in them'
complete -c hvterm -n '__hvterm_option_of cp' -l no-clobber -d 'Do not replace existing files'
complete -c hvterm -n '__hvterm_option_of cp' -l resume -d 'Continue partly written files of an interrupted copy'
complete -c hvterm -n '__hvterm_option_of cp' -l progress -d 'Show progress even when stderr is not a terminal'
complete -c hvterm -n '__hvterm_option_of cp' -l target -x -a '(__hvterm_targets)' -d 'The guest target; its paths are then :PATH'
complete -c hvterm -n '__hvterm_option_of cp' -s F -l config -r -F -d 'Read named targets from this file only'
complete -c hvterm -n '__hvterm_option_of cp' -l connect-timeout -x -d 'Give up connecting after this long (10s)'
complete -c hvterm -n '__hvterm_option_of cp' -l token-file -r -F -d 'Present the token stored in this file'
complete -c hvterm -n '__hvterm_option_of cp' -s v -l verbose -d 'Log connection details to stderr'
complete -c hvterm -n '__hvterm_option_of cp' -s q -l quiet -d 'No status notices'
complete -c hvterm -n "__hvterm_option_of $conn config" -s F -l config -r -F -d 'Read named targets from this file only'
complete -c hvterm -n '__hvterm_option_of config' -l names -d 'Only the configured names, one per line'
complete -c hvterm -n "__hvterm_option_of $conn" -l connect-timeout -x -d 'Give up connecting after this long (10s)'
complete -c hvterm -n "__hvterm_option_of $conn" -l token-file -r -F -d 'Present the token stored in this file'
complete -c hvterm -n "__hvterm_option_of $conn" -s v -l verbose -d 'Log connection details to stderr'
complete -c hvterm -n "__hvterm_option_of $conn" -s q -l quiet -d 'No status notices'
complete -c hvterm -n "__hvterm_option_of $session" -s e -l escape -x -a '(__hvterm_escapes)' -d 'Escape character typed after Enter'
complete -c hvterm -n "__hvterm_option_of $resume" -l no-reconnect -d 'Exit with 255 when the connection drops'
complete -c hvterm -n "__hvterm_option_of $resume" -l keepalive -x -d 'Ping the agent after this much silence (5s)'
complete -c hvterm -n "__hvterm_option_of $resume" -l dead-timeout -x -d 'Reconnect when the agent is silent this long (60s)'
complete -c hvterm -n "__hvterm_option_of $resume" -l reconnect-timeout -x -d 'Stop trying to reconnect after this long (10m)'
complete -c hvterm -n "__hvterm_option_of $session" -l log -r -F -d 'Append a transcript of the session output to this file'
complete -c hvterm -n "__hvterm_option_of $session" -l record -r -F -d 'Record the terminal session as asciicast v2'
complete -c hvterm -n "__hvterm_option_of $opens" -s u -l user -x -d 'Run as this user in the guest'
complete -c hvterm -n "__hvterm_option_of $opens" -s w -l workdir -x -d 'Working directory in the guest'
complete -c hvterm -n "__hvterm_option_of $opens" -l env -x -d 'Set KEY=VALUE in the remote environment'
complete -c hvterm -n "__hvterm_option_of $opens" -l no-env-forward -d 'Do not send LANG, LC_* and COLORTERM'
complete -c hvterm -n "__hvterm_option_of $opens" -s n -l name -x -d 'Name the session, for attach and kill'
complete -c hvterm -n "__hvterm_option_of $forwards" -s L -l local -x -d 'Listen here on [BIND:]PORT, connect to DESTINATION in the guest'
complete -c hvterm -n "__hvterm_option_of $forwards" -s R -l remote -x -d 'Listen in the guest on [BIND:]PORT, connect to DESTINATION here'
complete -c hvterm -n '__hvterm_option_of exec' -s t -l tty -d 'Run the command on a PTY (like ssh -t)'
complete -c hvterm -n '__hvterm_option_of ls vms' -l json -d 'Machine-readable output'
complete -c hvterm -n '__hvterm_option_of kill' -s s -l signal -x -a 'HUP INT QUIT KILL USR1 USR2 PIPE TERM CONT STOP TSTP WINCH' -d 'Signal name or number (default TERM)'
complete -c hvterm -n '__hvterm_option_of attach' -l read-only -d 'Show the session without typing into it'
complete -c hvterm -n '__hvterm_option_of attach' -l take -d 'Take the session over: every other client leaves'
complete -c hvterm -n '__hvterm_option_of kill' -l foreground -d "Signal the terminal's foreground job instead"
complete -c hvterm -n '__hvterm_option_of kill' -l close -d 'Hang the session up and discard it'
complete -c hvterm -n '__hvterm_option_of ping' -l wait -x -d 'Keep trying for up to this many seconds'
complete -c hvterm -n '__hvterm_option_of register' -l name -x -d 'Display name of the service'
