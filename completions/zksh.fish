function __zksh_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __zksh_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __zksh_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __zksh_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __zksh_parse_tokens -S
    set -l unparsed_tokens (__zksh_tokens -pc)
    switch $unparsed_tokens[1]
    case 'zksh'
        __zksh_parse_subcommand -r 1 's/server=' 'c/command=' 'json' 'v/verbose' 'keep-going' 'timeout=' 'auth=+' 'sasl=' 'color=' 'no-color' 'tls' 'tls-ca=' 'tls-cert=' 'tls-key=' 'session-timeout=' 'ensemble=' 'data-dir=' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __zksh_parse_subcommand -r 1 
        end
    end
end

function __zksh_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __zksh_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __zksh_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __zksh_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__zksh_tokens -p)
    if test -z "$(__zksh_tokens -t)"
        set -l index (count (__zksh_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'zksh' -f
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" s server' -s 's' -l 'server' -d 'Servers as host:port[,host:port…][/chroot] (default: $ZKSH_SERVER, else 127.0.0.1:2181).' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" c command' -s 'c' -l 'command' -d 'Run these commands (separated by \';\' or newlines) and exit.' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" json' -l 'json' -d 'Print each result as one JSON document.'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" v verbose' -s 'v' -l 'verbose' -d 'Report connection changes on standard error.'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" keep-going' -l 'keep-going' -d 'In scripts, run the remaining commands after a failure (exit status 1 at the end), pipelining single-request commands.'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" timeout' -l 'timeout' -d 'Seconds to wait for a connection.' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh"' -l 'auth' -d 'Authenticate as scheme:credentials (digest:user:password) when the session opens; repeatable.' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" sasl' -l 'sasl' -d 'Log in with SASL DIGEST-MD5 as user:password on every connection (as a JAAS Client section with DigestLoginModule).' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" color' -l 'color' -d 'Colour the output: auto (on a terminal, unless $NO_COLOR is set), always, never.' -rfka 'auto always never'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" no-color' -l 'no-color' -d 'Never colour the output (the same as --color never).'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" tls' -l 'tls' -d 'Connect with TLS (to the servers\' secureClientPort).'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" tls-ca' -l 'tls-ca' -d 'PEM file of the CAs trusted to sign the server\'s certificate (implies --tls; default: the system\'s).' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" tls-cert' -l 'tls-cert' -d 'PEM file of the client certificate, for servers with ssl.clientAuth=need (implies --tls).' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" tls-key' -l 'tls-key' -d 'PEM file of the client certificate\'s private key (implies --tls).' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" session-timeout' -l 'session-timeout' -d 'Session timeout in seconds to ask for.' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" ensemble' -l 'ensemble' -d 'Start a local ensemble of N zksh serve members (odd, 1 to 9) on loopback and connect to it; the members stop when the shell ends.' -rfka ''
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" data-dir' -l 'data-dir' -d 'With --ensemble: keep the members\' directories in this directory (kept, and reused when it holds an ensemble).' -rfa '(__zksh_complete_directories)'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_flags_or_options "zksh" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'zksh' -n '__zksh_should_offer_completions_for_positional "zksh" -eq 1' -fa 'help' -d 'Show subcommand help information.'
