# bash completion for hvtermd, the hvterm agent                 -*- shell-script -*-
#
# Install as /usr/share/bash-completion/completions/hvtermd, or `source` it from ~/.bashrc.
# It needs nothing from bash-completion.

# bash splits `--listen unix:/run/a.sock` at ':' (and `--log-level=info` at '='); put the pieces
# of the current word back together with COMP_LINE. Sets cur (the whole word up to the cursor),
# prev (the word before it) and _hvtermd_trim (what readline keeps in front of its own word).
_hvtermd__split()
{
    local line=$COMP_LINE pos=0 i tok space start=0 n=-1 tokcur='' prevword='' word=''
    cur='' prev='' _hvtermd_trim=''
    for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
        tok=${COMP_WORDS[i]}
        space=0
        while [[ $pos -lt ${#line} && ${line:pos:1} == [[:space:]] ]]; do
            ((pos++)); space=1
        done
        if [[ ${line:pos:${#tok}} != "$tok" ]]; then
            cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} _hvtermd_trim=''
            return
        fi
        if ((n >= 0 && !space)) && [[ $tok =~ ^[:=]+$ || ${COMP_WORDS[i-1]} =~ ^[:=]+$ ]]; then
            word+=$tok
        else
            ((n++))
            prevword=$word word=$tok start=$pos
        fi
        if ((i == COMP_CWORD)); then
            if ((COMP_POINT > start)); then cur=${line:start:COMP_POINT-start}; fi
            if ((COMP_POINT > pos)); then tokcur=${line:pos:COMP_POINT-pos}; fi
            [[ $tokcur =~ ^[:=]+$ ]] && tokcur=''
        fi
        ((pos += ${#tok}))
    done
    prev=$prevword
    if [[ $cur == [\'\"]* ]]; then
        cur=${cur:1}
        [[ $tokcur == [\'\"]* ]] && tokcur=${tokcur:1}
    fi
    _hvtermd_trim=${cur:0:${#cur}-${#tokcur}}
}

_hvtermd()
{
    local cur prev _hvtermd_trim
    _hvtermd__split
    local -a cands=()
    local option=$prev prefix='' pathprefix=- w f IFS=$'\n'
    COMPREPLY=()

    if [[ $cur == --*=* ]]; then
        option=${cur%%=*}
        prefix=$option=
    elif [[ $cur == -* ]]; then
        option=''
    fi
    local value=${cur:${#prefix}}

    case $option in
        -l | --listen)
            case $value in
                unix:*)
                    pathprefix=$prefix'unix:'
                    local path=${value#unix:}
                    path=${path//\\/}
                    for f in $(compgen -f -- "$path"); do
                        [[ -d $f ]] && f+=/
                        cands+=("${pathprefix}$f")
                    done
                    ;;
                *) cands=("${prefix}unix:" "${prefix}vsock:any:") ;;
            esac
            ;;
        --log-level)
            cands=("$prefix"{debug,info,warn,error,quiet})
            ;;
        --allow-cid)
            cands=("${prefix}any" "${prefix}2")
            ;;
        --forward)
            cands=("$prefix"{none,local,any})
            ;;
        --token-file | --log-file)
            pathprefix=$prefix
            for f in $(compgen -f -- "${value//\\/}"); do
                [[ -d $f ]] && f+=/
                cands+=("$prefix$f")
            done
            ;;
        -p | --port | --max-sessions | --max-connections | --linger | --replay-buffer | --scrollback | --service-name | \
        --forward-allow | --max-forwards)
            ;;  # a number, duration, size, name or list of destinations
        *)
            if [[ $cur == -* ]]; then
                cands=(-h --help --version -l --listen -p --port --allow-cid --token-file --max-sessions
                    --forward --forward-allow --max-forwards --max-connections
                    --linger --replay-buffer --scrollback --log-level --log-file --service --install-service --uninstall-service
                    --service-name)
            fi
            ;;
    esac

    local n=${#_hvtermd_trim}
    for w in "${cands[@]}"; do
        [[ $w == "$cur"* && ${w:0:n} == "$_hvtermd_trim" ]] && COMPREPLY+=("${w:n}")
    done
    [[ $_hvtermd_trim == "$pathprefix" ]] && compopt -o filenames 2>/dev/null
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[:/=] ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}

complete -F _hvtermd hvtermd
