# bash completion for hvterm                                   -*- shell-script -*-
#
# Install as /usr/share/bash-completion/completions/hvterm (bash-completion loads it the first time
# `hvterm` is completed), or `source` it from ~/.bashrc. It needs nothing from bash-completion.
#
# Completes subcommands, their options (with values where they are enumerable), TARGETs (local,
# unix:PATH, hybrid:PATH:PORT, vsock:, hv:, the names of the config file), the unix: and pipe: forms
# of `nc`'s DESTINATION, and, for `attach` and `kill`, the ids of the sessions
# the agent has: it runs `hvterm ls TARGET --json` (1 s connect timeout, errors ignored). For the
# `local` target it asks only when the local agent's socket already exists, so pressing TAB never
# starts an agent. Words after `--` (or after the command of `shell`/`exec`) are the remote command:
# they get ordinary command and file completion.

# bash splits COMP_WORDS at every COMP_WORDBREAKS character, ':' and '=' included, so `unix:/run/a`
# arrives as `unix` `:` `/run/a`. Glue such pieces back together, using COMP_LINE to tell
# `unix:/run/a` from `unix: /run/a`. Sets, in the caller's scope:
#   words cword   the command line as the shell will split it, and the index of the current word
#   cur           the current word up to the cursor, as typed
#   _hvterm_trim  the leading part of cur that readline keeps (it replaces only what follows the last
#                 word-break character); it is cut off every candidate before it goes to COMPREPLY
#   _hvterm_raw   for each words[i], the index in COMP_WORDS where it starts
_hvterm__split()
{
    words=() cword=0 cur='' _hvterm_trim='' _hvterm_raw=()
    local line=$COMP_LINE pos=0 i tok space start=0 n=-1 tokcur=''
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        tok=${COMP_WORDS[i]}
        space=0
        while [[ $pos -lt ${#line} && ${line:pos:1} == [[:space:]] ]]; do
            ((pos++)); space=1
        done
        if [[ ${line:pos:${#tok}} != "$tok" ]]; then
            # The line does not look the way we expect: use bash's words as they are.
            words=("${COMP_WORDS[@]}") cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]}
            _hvterm_trim='' _hvterm_raw=()
            for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do _hvterm_raw[i]=$i; done
            return
        fi
        if ((n >= 0 && !space)) && [[ $tok =~ ^[:=]+$ || ${COMP_WORDS[i-1]} =~ ^[:=]+$ ]]; then
            words[n]+=$tok
        else
            ((n++))
            words[n]=$tok
            _hvterm_raw[n]=$i
            start=$pos
        fi
        if ((i == COMP_CWORD)); then
            cword=$n
            if ((COMP_POINT > start)); then cur=${line:start:COMP_POINT-start}; else cur=''; fi
            if ((COMP_POINT > pos)); then tokcur=${line:pos:COMP_POINT-pos}; else tokcur=''; fi
            [[ $tokcur =~ ^[:=]+$ ]] && tokcur=''
        fi
        ((pos += ${#tok}))
    done
    # A word opened with a quote: readline completes what follows the quote.
    if [[ $cur == [\'\"]* ]]; then
        cur=${cur:1}
        [[ $tokcur == [\'\"]* ]] && tokcur=${tokcur:1}
    fi
    _hvterm_trim=${cur:0:${#cur}-${#tokcur}}
}

# Remove the quoting a user is likely to have typed around a TARGET, option value or path.
_hvterm__dequote()
{
    local s=$1
    case $s in
        \'*\') s=${s:1:${#s}-2} ;;
        \"*\") s=${s:1:${#s}-2} ;;
        \'* | \"*) s=${s:1} ;;
        *) s=${s//\\/} ;;
    esac
    printf '%s' "$s"
}

# _hvterm__add WORD...: offer the WORDs that start with $cur.
_hvterm__add()
{
    local w
    for w; do
        [[ $w == "$cur"* ]] && _hvterm_cands+=("$w")
    done
}

# _hvterm__paths PREFIX: offer PREFIX followed by the files that complete what follows PREFIX in
# $cur. Directories end in '/'.
_hvterm__paths()
{
    local prefix=$1 path f IFS=$'\n'
    path=$(_hvterm__dequote "${cur:${#prefix}}")
    for f in $(compgen -f -- "$path"); do
        [[ -d $f ]] && f+=/
        _hvterm_cands+=("$prefix$f")
    done
    _hvterm_pathprefix=$prefix
}

_hvterm__targets()
{
    case $cur in
        unix:*) _hvterm__paths unix: ;;
        hybrid:*) _hvterm__paths hybrid: ; _hvterm_nospace=1 ;;  # PATH, then :PORT
        vsock:* | hv:*) ;;  # a CID or VM GUID: nothing we can know here
        *) _hvterm__add local unix: vsock: hybrid: hv: ; _hvterm__names "$1" ;;
    esac
}

# _hvterm__names PROGRAM: the names of the config file (hvterm config --names reads only files).
_hvterm__names()
{
    local program=$1 name
    [[ $program == '~/'* ]] && program=$HOME/${program:2}
    while IFS= read -r name; do
        _hvterm__add "$name"
    done < <("$program" config --names "${_hvterm_configargs[@]}" 2>/dev/null </dev/null)
}

# _hvterm__sessions PROGRAM TARGET [kill]: the 8-character id prefixes of the agent's sessions and
# their names (for kill, only sessions whose program still runs). Extra connection options are in
# _hvterm_connargs.
_hvterm__sessions()
{
    local program=$1 target base line json
    target=$(_hvterm__dequote "$2")
    [[ -z $target || $target == -* ]] && return
    if [[ $target == local ]]; then
        base=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}/hvterm-$EUID}
        [[ -S $base/hvterm/agent.sock ]] || return
    fi
    [[ $program == '~/'* ]] && program=$HOME/${program:2}
    local -a run=("$program" ls "$target" --json --connect-timeout 1s -q "${_hvterm_connargs[@]}")
    type -P timeout >/dev/null 2>&1 && run=(timeout 3 "${run[@]}")
    json=$("${run[@]}" 2>/dev/null </dev/null) || return
    local re='^[[:space:]]*[[{,]*[[:space:]]*\{"id": *"([0-9a-f]{8})[0-9a-f]*", *"state": *"([a-z]+)"'
    local name_re='"name": *"([A-Za-z0-9._-]+)"'
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then
            [[ $3 == kill && ${BASH_REMATCH[2]} == exited ]] && continue
            _hvterm__add "${BASH_REMATCH[1]}"
            [[ $line =~ $name_re ]] && _hvterm__add "${BASH_REMATCH[1]}"
        fi
    done <<<"$json"
}

# The remote command (after `--`): complete it as its own command line, starting at words[$1].
_hvterm__command()
{
    local first=$1
    if declare -F _command_offset >/dev/null 2>&1; then
        # bash-completion: the command's own completion (it works on bash's raw words).
        _command_offset "${_hvterm_raw[first]}"
        return 0
    fi
    local IFS=$'\n' c
    if ((cword == first)); then
        local -A seen=()
        for c in $(compgen -c -- "$cur"); do
            [[ -n ${seen[$c]} ]] || COMPREPLY+=("$c")
            seen[$c]=1
        done
    else
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}

_hvterm()
{
    local words cword cur _hvterm_trim _hvterm_raw
    _hvterm__split
    local -a _hvterm_cands=() _hvterm_connargs=() _hvterm_configargs=()
    local _hvterm_pathprefix=- _hvterm_nospace=0
    COMPREPLY=()

    local conn='-h --help -F --config -p --port --connect-timeout --token-file -v --verbose -q --quiet'
    local resume='--no-reconnect --keepalive --dead-timeout --reconnect-timeout'
    local session="$conn -e --escape $resume --log --record"
    local opens='-u --user -w --workdir --env --no-env-forward -n --name'
    local forwards='-L --local -R --remote'
    # Options that take a value (in the next word, or after '=').
    local valued=' -F --config -p --port --connect-timeout --token-file -e --escape --keepalive --dead-timeout
        --reconnect-timeout --log --record -u --user -w --workdir --env -s --signal --wait -n --name
        -L --local -R --remote --target '
    valued=${valued//$'\n'/ }

    # Walk the words before the current one.
    local sub='' i=1 w npos=0 command_at=-1 value_for='' target=''
    while ((i < cword)); do
        w=${words[i]}
        if [[ -z $sub ]]; then
            [[ $w == -* ]] || sub=$w
            ((i++))
            continue
        fi
        if [[ $w == -- ]]; then
            command_at=$((i + 1))
            break
        fi
        if [[ $w == -?* ]]; then
            if [[ $sub == cp && $w == -p ]]; then  # cp's -p is --preserve; its port is --port only
                ((i++))
                continue
            fi
            case $w in
                -p | --port | --token-file)
                    ((i + 1 < cword)) && _hvterm_connargs+=("$w" "$(_hvterm__dequote "${words[i+1]}")") ;;
                --port=* | --token-file=* | -p?*)
                    _hvterm_connargs+=("$(_hvterm__dequote "$w")") ;;
                -F | --config)  # names resolve through it: for the session ids too
                    if ((i + 1 < cword)); then
                        _hvterm_configargs=("$w" "$(_hvterm__dequote "${words[i+1]}")")
                        _hvterm_connargs+=("${_hvterm_configargs[@]}")
                    fi ;;
                --config=* | -F?*)
                    _hvterm_configargs=("$(_hvterm__dequote "$w")")
                    _hvterm_connargs+=("${_hvterm_configargs[@]}") ;;
            esac
            if [[ $valued == *" $w "* && $sub != vms && $sub != service-id && $sub != port ]]; then
                if ((i + 1 == cword)); then
                    value_for=$w
                    break
                fi
                ((i += 2))
                continue
            fi
            ((i++))
            continue
        fi
        # A positional word. For shell and exec the first one after TARGET starts the command.
        if [[ ($sub == shell || $sub == exec) && $npos -ge 1 ]]; then
            command_at=$i
            break
        fi
        ((npos == 0)) && target=$w
        ((npos++))
        ((i++))
    done

    if ((command_at >= 0)); then
        _hvterm__command "$command_at"
        return
    fi

    # --option=value
    if [[ -z $value_for && $cur == --*=* ]]; then
        value_for=${cur%%=*}
        [[ $valued == *" $value_for "* ]] || value_for=''
    fi

    if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
            _hvterm__add -h --help --version
        else
            _hvterm__add shell exec nc cp forward attach ls kill ping vms config service-id port register
        fi
    elif [[ -n $value_for ]]; then
        local prefix=''
        [[ $cur == --*=* ]] && prefix=${cur%%=*}=
        local value=${cur:${#prefix}}
        case $value_for in
            -e | --escape)
                # A bare ~ would be expanded by the shell: offer it escaped (not needed after '=').
                if [[ -n $prefix ]]; then
                    _hvterm__add "${prefix}none" "$prefix~" "$prefix%"
                else
                    _hvterm__add none '\~' %
                fi
                ;;
            -s | --signal)
                local s u=${value^^}
                for s in HUP INT QUIT KILL USR1 USR2 PIPE TERM CONT STOP TSTP WINCH; do
                    if [[ $u == SIG* ]]; then s=SIG$s; fi
                    [[ $s == "$u"* ]] && _hvterm_cands+=("$prefix$s")
                done
                ;;
            --token-file | --log | --record | -F | --config)
                _hvterm__paths "$prefix"
                ;;
        esac
    elif [[ $cur == -* ]]; then
        case $sub in
            shell) _hvterm__add -- $session $opens $forwards ;;
            exec) _hvterm__add -- -t --tty $session $opens $forwards ;;
            nc) _hvterm__add $conn $resume ;;
            # -p is --preserve for cp, as for cp and scp: its port is --port alone.
            cp) _hvterm__add ${conn/-p --port/--port} $resume --target -r --recursive -p --preserve --no-clobber --progress --resume ;;
            forward) _hvterm__add $forwards $conn $resume ;;
            attach) _hvterm__add $session --read-only --take ;;
            ls) _hvterm__add --json $conn ;;
            kill) _hvterm__add -s --signal --foreground --close $conn ;;
            ping) _hvterm__add --wait $conn ;;
            vms) _hvterm__add -h --help --json ;;
            config) _hvterm__add -h --help --names -F --config ;;
            service-id | port) _hvterm__add -h --help ;;
            register) _hvterm__add -h --help -p --port --name ;;
        esac
    else
        case $sub:$npos in
            shell:0 | exec:0 | nc:0 | forward:0 | attach:0 | ls:0 | kill:0 | ping:0)
                _hvterm__targets "${words[0]}"
                ;;
            config:0)
                _hvterm__names "${words[0]}"
                ;;
            shell:1 | exec:1)
                # Where the command goes: `--` first (hvterm exec TARGET -- COMMAND).
                if [[ -z $cur ]]; then
                    _hvterm_cands=(--)
                else
                    _hvterm__command "$cword"
                    return
                fi
                ;;
            attach:1 | kill:1)
                _hvterm__sessions "${words[0]}" "$target" "$sub"
                ;;
            cp:*)
                # Local paths; the guest's are TARGET:PATH, typed by hand.
                _hvterm__paths ''
                ;;
            nc:1)
                # [HOST:]PORT is free-form; the socket forms name paths in the guest, not here.
                [[ $cur == *:* ]] || _hvterm__add unix: pipe:
                ;;
        esac
    fi

    # Hand the candidates to readline, without the part of the word it does not replace.
    local c n=${#_hvterm_trim}
    for c in "${_hvterm_cands[@]}"; do
        [[ ${c:0:n} == "$_hvterm_trim" ]] && COMPREPLY+=("${c:n}")
    done
    if [[ $_hvterm_trim == "$_hvterm_pathprefix" ]]; then
        # Readline sees plain paths: let it quote them and show only their last component.
        compopt -o filenames 2>/dev/null
    fi
    if ((_hvterm_nospace)); then
        compopt -o nospace 2>/dev/null
    elif ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[:/=] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -F _hvterm hvterm
