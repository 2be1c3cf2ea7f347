#compdef zksh

__zksh_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__zksh_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __zksh_complete "${completions[@]:0:-1}"
    fi
}

__zksh_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_zksh() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar ___color=('auto' 'always' 'never')
    local -ar arg_specs=(
        '(-s --server)'{-s,--server}'[Servers as host\:port\[,host\:port…\]\[/chroot\] (default\: $ZKSH_SERVER, else 127.0.0.1\:2181).]:hosts:'
        '(-c --command)'{-c,--command}'[Run these commands (separated by '\'';'\'' or newlines) and exit.]:script:'
        '--json[Print each result as one JSON document.]'
        '(-v --verbose)'{-v,--verbose}'[Report connection changes on standard error.]'
        '--keep-going[In scripts, run the remaining commands after a failure (exit status 1 at the end), pipelining single-request commands.]'
        '--timeout[Seconds to wait for a connection.]:seconds:'
        '*--auth[Authenticate as scheme\:credentials (digest\:user\:password) when the session opens; repeatable.]:scheme\:auth:'
        '--sasl[Log in with SASL DIGEST-MD5 as user\:password on every connection (as a JAAS Client section with DigestLoginModule).]:user\:password:'
        '--color[Colour the output\: auto (on a terminal, unless $NO_COLOR is set), always, never.]:when:{__zksh_complete "${___color[@]}"}'
        '--no-color[Never colour the output (the same as --color never).]'
        '--tls[Connect with TLS (to the servers'\'' secureClientPort).]'
        '--tls-ca[PEM file of the CAs trusted to sign the server'\''s certificate (implies --tls; default\: the system'\''s).]:file:'
        '--tls-cert[PEM file of the client certificate, for servers with ssl.clientAuth=need (implies --tls).]:file:'
        '--tls-key[PEM file of the client certificate'\''s private key (implies --tls).]:file:'
        '--session-timeout[Session timeout in seconds to ask for.]:seconds:'
        '--ensemble[Start a local ensemble of N zksh serve members (odd, 1 to 9) on loopback and connect to it; the members stop when the shell ends.]:N:'
        '--data-dir[With --ensemble\: keep the members'\'' directories in this directory (kept, and reused when it holds an ensemble).]:dir:_files -/'
        '*:command:'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        help)
            "_zksh_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_zksh_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _zksh ]]; then
    _zksh "${@}"
else
    compdef _zksh zksh
fi
