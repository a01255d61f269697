# PowerShell completion for hvterm and hvtermd (Windows PowerShell 5.1 and PowerShell 7).
# Dot-source it from your profile:   . C:\path\to\hvterm.ps1
#
# hvterm: subcommands, their options (with values where they are enumerable), TARGET forms, paths
# after unix: and hybrid:, the unix: and pipe: forms of `nc`'s DESTINATION, and for `attach` and
# `kill` the ids of the agent's sessions, from
# `hvterm ls TARGET --json` (1 s connect timeout, errors ignored; not for the `local` target, whose
# agent `hvterm ls` would start). Nothing after `--` is completed here.
# hvtermd: its options, --listen forms, --log-level and --forward values.

# A completion result; quoted when PowerShell would otherwise split, expand or swallow it (a bare
# -- is PowerShell's own end-of-parameters marker).
function global:Get-HvtermCompletion([string]$Text, [string]$Tooltip, [string]$Type = 'ParameterValue') {
    $insert = $Text
    if ($Text -eq '--' -or $Text -match '[\s''"`$&|;,(){}@#<>~]') {
        $insert = "'" + ($Text -replace "'", "''") + "'"
    }
    if (-not $Tooltip) { $Tooltip = $Text }
    [System.Management.Automation.CompletionResult]::new($insert, $Text, $Type, $Tooltip)
}

# The files and directories that complete $Partial, each prefixed with $Prefix.
function global:Get-HvtermPath([string]$Prefix, [string]$Partial) {
    $cut = [Math]::Max($Partial.LastIndexOf('\'), $Partial.LastIndexOf('/'))
    $dir = $Partial.Substring(0, $cut + 1)
    $leaf = $Partial.Substring($cut + 1)
    $where = if ($dir) { $dir } else { '.' }
    Get-ChildItem -LiteralPath $where -Filter "$leaf*" -Force -ErrorAction SilentlyContinue | ForEach-Object {
        if ($_.PSIsContainer) { $Prefix + $dir + $_.Name + '\' } else { $Prefix + $dir + $_.Name }
    }
}

Register-ArgumentCompleter -Native -CommandName 'hvterm', 'hvterm.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    # The words before the one being completed.
    $start = $cursorPosition - $wordToComplete.Length
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.StartOffset -lt $start } | ForEach-Object {
        if ($_ -is [System.Management.Automation.Language.StringConstantExpressionAst]) { $_.Value } else { $_.Extent.Text }
    })

    $valued = @('-F', '--config', '-p', '--port', '--connect-timeout', '--token-file', '-e', '--escape', '--keepalive',
        '--dead-timeout', '--reconnect-timeout', '--log', '--record', '-u', '--user', '-w', '--workdir', '--env', '-s',
        '--signal', '--wait', '-n', '--name', '-L', '--local', '-R', '--remote', '--target')
    $conn = @('-h', '--help', '-F', '--config', '-p', '--port', '--connect-timeout', '--token-file', '-v', '--verbose', '-q', '--quiet')
    $resume = @('--no-reconnect', '--keepalive', '--dead-timeout', '--reconnect-timeout')
    $session = $conn + @('-e', '--escape') + $resume + @('--log', '--record')
    $opens = @('-u', '--user', '-w', '--workdir', '--env', '--no-env-forward', '-n', '--name')
    $forwards = @('-L', '--local', '-R', '--remote')
    $options = @{
        'shell'      = $session + $opens + $forwards + @('--')
        'exec'       = $session + $opens + $forwards + @('-t', '--tty', '--')
        'nc'         = $conn + $resume
        # -p is --preserve for cp, as for cp and scp: its port is --port alone.
        'cp'         = @('-h', '--help', '-F', '--config', '--port', '--connect-timeout', '--token-file', '-v', '--verbose', '-q', '--quiet') + $resume + @('--target', '-r', '--recursive', '-p', '--preserve', '--no-clobber', '--progress', '--resume')
        'forward'    = $forwards + $conn + $resume
        'attach'     = $session + @('--read-only', '--take')
        'ls'         = $conn + @('--json')
        'kill'       = $conn + @('-s', '--signal', '--foreground', '--close')
        'ping'       = $conn + @('--wait')
        'vms'        = @('-h', '--help', '--json')
        'config'     = @('-h', '--help', '--names', '-F', '--config')
        'service-id' = @('-h', '--help')
        'port'       = @('-h', '--help')
        'register'   = @('-h', '--help', '-p', '--port', '--name')
    }

    # Walk the words: the subcommand, its positional arguments, a pending option value.
    $sub = $null; $npos = 0; $target = $null; $valueFor = $null; $connArgs = @(); $configArgs = @()
    # The names of the config file: `hvterm config --names` only reads files.
    $names = {
        $list = @()
        try { $list = @(& $words[0] config --names @configArgs 2>$null) } catch { }
        $list | Where-Object { $_ } | ForEach-Object { Get-HvtermCompletion $_ 'configured name' }
    }
    for ($i = 1; $i -lt $words.Count; $i++) {
        $w = $words[$i]
        if (-not $sub) {
            if (-not $w.StartsWith('-')) { $sub = $w }
            continue
        }
        if ($w -eq '--') { return }  # the remote command: not ours
        if ($w.Length -gt 1 -and $w.StartsWith('-')) {
            if ($w -in @('-F', '--config', '-p', '--port', '--token-file') -and $i + 1 -lt $words.Count) { $connArgs += @($w, $words[$i + 1]) }
            if ($w -like '--config=*' -or $w -like '--port=*' -or $w -like '--token-file=*') { $connArgs += $w }
            if ($w -in @('-F', '--config') -and $i + 1 -lt $words.Count) { $configArgs = @($w, $words[$i + 1]) }
            if ($w -like '--config=*') { $configArgs = @($w) }
            if ($w -in $valued -and $sub -notin @('vms', 'service-id', 'port')) {
                if ($i + 1 -eq $words.Count) { $valueFor = $w } else { $i++ }
            }
            continue
        }
        if ($sub -in @('shell', 'exec') -and $npos -ge 1) { return }  # the remote command
        if ($npos -eq 0) { $target = $w }
        $npos++
    }

    $prefix = ''
    if (-not $valueFor -and $wordToComplete -match '^(--[a-z-]+)=' -and $Matches[1] -in $valued) {
        $valueFor = $Matches[1]
        $prefix = $valueFor + '='
    }
    $value = $wordToComplete.Substring($prefix.Length)
    $results = @()

    if (-not $sub) {
        if ($wordToComplete.StartsWith('-')) {
            $results = @('-h', '--help', '--version') | ForEach-Object { Get-HvtermCompletion $_ $_ 'ParameterName' }
        } else {
            $results = @('shell', 'exec', 'nc', 'cp', 'forward', 'attach', 'ls', 'kill', 'ping', 'vms', 'config', 'service-id', 'port', 'register') |
                ForEach-Object { Get-HvtermCompletion $_ }
        }
    } elseif ($valueFor) {
        $values = switch ($valueFor) {
            { $_ -in '-e', '--escape' } { @('none', '~', '%') }
            { $_ -in '-s', '--signal' } { @('HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2', 'PIPE', 'TERM', 'CONT', 'STOP', 'TSTP', 'WINCH') }
            { $_ -in '--token-file', '--log', '--record', '-F', '--config' } { @(Get-HvtermPath '' $value) }
            default { @() }
        }
        $results = $values | ForEach-Object { Get-HvtermCompletion ($prefix + $_) }
    } elseif ($wordToComplete.StartsWith('-')) {
        $results = $options[$sub] | ForEach-Object { Get-HvtermCompletion $_ $_ 'ParameterName' }
    } elseif ($npos -eq 0 -and $sub -in @('shell', 'exec', 'nc', 'forward', 'attach', 'ls', 'kill', 'ping')) {
        if ($wordToComplete -like 'unix:*') {
            $results = Get-HvtermPath 'unix:' $wordToComplete.Substring(5) | ForEach-Object { Get-HvtermCompletion $_ }
        } elseif ($wordToComplete -like 'hybrid:*') {
            $results = Get-HvtermPath 'hybrid:' $wordToComplete.Substring(7) | ForEach-Object { Get-HvtermCompletion $_ }
        } else {
            $results = @(
                (Get-HvtermCompletion 'local' 'a per-user agent on this machine, started on first use'),
                (Get-HvtermCompletion 'hv:' 'AF_HYPERV: hv:VMID[:SERVICE]'),
                (Get-HvtermCompletion 'unix:' 'an agent on a Unix socket: unix:PATH'),
                (Get-HvtermCompletion 'vsock:' 'AF_VSOCK: vsock:CID[:PORT]'),
                (Get-HvtermCompletion 'hybrid:' 'Firecracker / Cloud Hypervisor vsock: hybrid:PATH:PORT')) + @(& $names)
        }
    } elseif ($npos -eq 0 -and $sub -eq 'config') {
        $results = @(& $names)
    } elseif ($npos -eq 1 -and $sub -eq 'nc' -and -not $wordToComplete.Contains(':')) {
        # [HOST:]PORT is free-form; unix:PATH and pipe:NAME name things in the guest, not here.
        $results = @(
            (Get-HvtermCompletion 'unix:' 'a Unix socket in the guest: unix:PATH'),
            (Get-HvtermCompletion 'pipe:' 'a named pipe in a Windows guest: pipe:NAME'))
    } elseif ($npos -eq 1 -and $sub -in @('shell', 'exec') -and -not $wordToComplete) {
        $results = @(Get-HvtermCompletion '--' 'the remote command follows')
    } elseif ($npos -eq 1 -and $sub -in @('attach', 'kill') -and $target -and $target -ne 'local') {
        $program = $words[0]
        try {
            $json = & $program ls $target --json --connect-timeout 1s -q @connArgs 2>$null | Out-String
            $list = if ($LASTEXITCODE -eq 0 -and $json) { ConvertFrom-Json $json } else { @() }
        } catch {
            $list = @()
        }
        foreach ($s in $list) {
            if ($sub -eq 'kill' -and $s.state -eq 'exited') { continue }
            $results += Get-HvtermCompletion $s.id.Substring(0, 8) ($s.state + '  ' + $s.command)
            if ($s.name) { $results += Get-HvtermCompletion $s.name ($s.id.Substring(0, 8) + ' ' + $s.state + '  ' + $s.command) }
        }
    }
    $results | Where-Object { $_.ListItemText.StartsWith($wordToComplete, [StringComparison]::OrdinalIgnoreCase) }
}

Register-ArgumentCompleter -Native -CommandName 'hvtermd', 'hvtermd.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $start = $cursorPosition - $wordToComplete.Length
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.StartOffset -lt $start } | ForEach-Object { $_.Extent.Text })
    $prev = if ($words.Count -gt 1) { $words[-1] } else { '' }
    $prefix = ''
    if ($wordToComplete -match '^(--[a-z-]+)=') {
        $prev = $Matches[1]
        $prefix = $prev + '='
    } elseif ($wordToComplete.StartsWith('-')) {
        $prev = ''
    }
    $value = $wordToComplete.Substring($prefix.Length)

    $results = switch ($prev) {
        { $_ -in '-l', '--listen' } {
            if ($value -like 'unix:*') { Get-HvtermPath ($prefix + 'unix:') $value.Substring(5) }
            else { @('unix:', 'vsock:any:', 'hv:') | ForEach-Object { $prefix + $_ } }
        }
        '--log-level' { @('debug', 'info', 'warn', 'error', 'quiet') | ForEach-Object { $prefix + $_ } }
        '--allow-cid' { @('any', '2') | ForEach-Object { $prefix + $_ } }
        '--forward' { @('none', 'local', 'any') | ForEach-Object { $prefix + $_ } }
        { $_ -in '--token-file', '--log-file' } { Get-HvtermPath $prefix $value }
        { $_ -in '-p', '--port', '--max-sessions', '--max-connections', '--linger', '--replay-buffer', '--scrollback', '--service-name',
            '--forward-allow', '--max-forwards' } { }
        default {
            if ($wordToComplete.StartsWith('-')) {
                @('-h', '--help', '--version', '-l', '--listen', '-p', '--port', '--allow-cid', '--token-file',
                    '--max-sessions', '--forward', '--forward-allow', '--max-forwards', '--max-connections', '--linger', '--replay-buffer', '--scrollback', '--log-level', '--log-file', '--service',
                    '--install-service', '--uninstall-service', '--service-name')
            }
        }
    }
    $results | Where-Object { $_ -and $_.StartsWith($wordToComplete, [StringComparison]::OrdinalIgnoreCase) } |
        ForEach-Object { Get-HvtermCompletion $_ }
}
