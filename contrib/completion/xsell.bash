# bash completion for xsell                                -*- shell-script -*-
#
# Installed by `cmake --install` as share/bash-completion/completions/xsell
# (bash-completion loads it the first time `xsell` is completed); or
# `source contrib/completion/xsell.bash` in ~/.bashrc.
#
# Nothing here lists a command or an option: the commands are read from
# `xsell --help`, a command's options from `xsell COMMAND --help`, at each
# completion, from the xsell being completed (${COMP_WORDS[0]}: `xsell` on
# PATH, or build/bin/xsell), so a new command or option completes as soon
# as its --help prints it.  After an option whose --help line names a FILE
# argument, file names complete; DIR, directories; any other argument
# (N, LIST, ENDPOINT...), nothing.  `xsell query` completes its ops,
# `xsell snapshot` a directory.  Needs only bash (no bash-completion
# helpers), so it can be sourced and tested alone.

# _xsell_arg HELP OPTION: the metavar of OPTION's line in HELP ("FILE",
# "N"...), empty for a flag or an option without a line of its own.
_xsell_arg()
{
    local line
    while IFS= read -r line; do
        if [[ $line =~ ^\ +$2\ ([^ ]+)(\ \ |$) ]]; then
            printf '%s\n' "${BASH_REMATCH[1]}"
            return 0
        fi
    done <<< "$1"
    return 0
}

_xsell()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local bin=${COMP_WORDS[0]} cmd= cmd_at=0 i help words
    [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
    COMPREPLY=()

    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]} cmd_at=$i
            break
        fi
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            words="--help --version"
        else
            words=$("$bin" --help 2>/dev/null |
                    sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
        fi
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi

    help=$("$bin" "$cmd" --help 2>/dev/null) || return 0
    if [[ $prev == --* ]] && ((COMP_CWORD > cmd_at + 1)); then
        case $(_xsell_arg "$help" "$prev") in
            "") ;;  # a flag: complete as usual below
            FILE)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -f -- "$cur"))
                return 0 ;;
            DIR)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -d -- "$cur"))
                return 0 ;;
            *) return 0 ;;  # a value: nothing to offer
        esac
    fi
    if [[ $cur == -* ]]; then
        words=$(printf '%s\n' "$help" | grep -oE -- '(^|[^A-Za-z0-9_-])--[a-z][a-z0-9-]*' |
                grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    # a positional argument: which one (options and their values skipped)
    local n=0 w
    for ((i = cmd_at + 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == --* ]]; then
            [[ -n $(_xsell_arg "$help" "$w") ]] && ((i++))
        elif [[ $w != -* ]]; then
            ((n++))
        fi
    done
    case $cmd in
        query)
            if ((n == 0)); then
                COMPREPLY=($(compgen -W "recommend ingest catalog rules stats health plugins save" \
                             -- "$cur"))
            fi ;;
        snapshot)
            if ((n == 0)); then
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -d -- "$cur"))
            fi ;;
    esac
    return 0
}
complete -F _xsell xsell
