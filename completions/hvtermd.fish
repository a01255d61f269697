# fish completion for hvtermd, the hvterm agent. Install as
# /usr/share/fish/vendor_completions.d/hvtermd.fish (or ~/.config/fish/completions/hvtermd.fish).

# --listen ADDR: unix:PATH (where to create the socket) or vsock:any[:PORT].
function __hvtermd_listen
    set -l token (commandline -ct)
    string replace -q -r -- '^--listen=' '' $token; and set token (string replace -r -- '^--listen=' '' $token)
    switch $token
        case 'unix:*'
            for path in (__fish_complete_path (string replace -r '^unix:' '' -- $token))
                printf 'unix:%s\n' $path
            end
        case '*'
            printf '%s\t%s\n' unix: 'a Unix socket (unix:PATH)' vsock:any: 'AF_VSOCK, any CID (vsock:any[:PORT])'
    end
end

complete -c hvtermd -f
complete -c hvtermd -s h -l help -d 'Print help and exit'
complete -c hvtermd -l version -d 'Print version and exit'
complete -c hvtermd -s l -l listen -x -a '(__hvtermd_listen)' -d 'Address to listen on (repeatable)'
complete -c hvtermd -s p -l port -x -d 'Default port for vsock/Hyper-V listeners (18518)'
complete -c hvtermd -l allow-cid -x -a 'any 2' -d 'vsock peers allowed to connect: CIDs or any'
complete -c hvtermd -l token-file -r -F -d 'Require clients to present the token in this file'
complete -c hvtermd -l max-sessions -x -d 'Maximum concurrent sessions (256)'
complete -c hvtermd -l forward -x -a 'none local any' -d 'Connections clients may open in the guest (any)'
complete -c hvtermd -l forward-allow -x -d 'Only these destinations: HOST:PORT, HOST:*, unix:PATH, pipe:NAME'
complete -c hvtermd -l max-forwards -x -d 'Maximum connections opened for clients at once (256)'
complete -c hvtermd -l max-connections -x -d 'Maximum connections served at once'
complete -c hvtermd -l linger -x -d 'How long a detached session lives (24h)'
complete -c hvtermd -l replay-buffer -x -d 'Output kept per session for clients (1M)'
complete -c hvtermd -l scrollback -x -d 'Lines a detached terminal session keeps (10000)'
complete -c hvtermd -l log-level -x -a 'debug info warn error quiet' -d 'Log level'
complete -c hvtermd -l log-file -r -F -d 'Write log records to this file instead of stderr'
complete -c hvtermd -l service -d 'Windows: run under the Service Control Manager'
complete -c hvtermd -l install-service -d 'Windows: create the service running this hvtermd with these options'
complete -c hvtermd -l uninstall-service -d 'Windows: stop and delete the service'
complete -c hvtermd -l service-name -x -d 'Service name for --install-service/--uninstall-service (hvtermd)'
