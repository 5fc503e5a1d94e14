<#
.SYNOPSIS
  Build the BuildTrace Desktop package for IT on Windows: a one-folder PyInstaller build in
  dist\buildtrace\, optionally with Tesseract inside it, smoke-tested, then zipped as
  dist\BuildTrace-<version>-windows-<arch>.zip.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File build_scripts\build_installer.ps1 -TesseractDir "C:\Program Files\Tesseract-OCR"

.PARAMETER Python
  The Python 3.11+ used to create .venv when it does not exist yet (default: "py -3.11" if the launcher
  exists, else "python").

.PARAMETER TesseractDir
  The folder of a UB Mannheim Tesseract install (the one holding tesseract.exe and tessdata\). It is
  copied to dist\buildtrace\tesseract\. The app finds it through BUILDTRACE_TESSERACT, which the
  deployment sets (see docs\installers.md); the smoke test sets it for its own run.

.PARAMETER SkipSmoke
  Build and zip without the smoke test (not recommended).

.NOTES
  Written for Windows PowerShell 5.1 and PowerShell 7. Native commands do not throw on a non-zero exit
  code in 5.1, so every one is checked through Invoke-Checked.
#>
[CmdletBinding()]
param(
    [string]$Python = "",
    [string]$TesseractDir = "",
    [switch]$SkipSmoke,
    [int]$GuiSeconds = 90
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..")).Path
Set-Location $Root

function Invoke-Checked {
    # Run a native command; stop the build if it exits with a code not in $Allowed. Returns the code.
    param([string]$Exe, [string[]]$Arguments, [int[]]$Allowed = @(0))
    # Out-Host: the command's output goes to the console, not into this function's return value.
    & $Exe @Arguments | Out-Host
    $code = $LASTEXITCODE
    if ($Allowed -notcontains $code) {
        throw "'$Exe $($Arguments -join ' ')' exited with $code"
    }
    return $code
}

# --- .venv with the app and PyInstaller ------------------------------------------------------------
$VenvPy = Join-Path $Root ".venv\Scripts\python.exe"
if (-not (Test-Path $VenvPy)) {
    if ($Python -eq "") {
        if (Get-Command py -ErrorAction SilentlyContinue) { $Python = "py -3.11" } else { $Python = "python" }
    }
    $parts = $Python -split " "
    $pyArgs = @()
    if ($parts.Length -gt 1) { $pyArgs = $parts[1..($parts.Length - 1)] }
    Write-Host "build: creating .venv with $Python"
    Invoke-Checked $parts[0] ($pyArgs + @("-m", "venv", ".venv")) | Out-Null
}
Write-Host "build: installing the app and PyInstaller into .venv"
Invoke-Checked $VenvPy @("-m", "pip", "install", "-q", "--upgrade", "pip") | Out-Null
Invoke-Checked $VenvPy @("-m", "pip", "install", "-q", "-e", ".[build]") | Out-Null

$Version = (& $VenvPy -c "import buildtrace_desktop; print(buildtrace_desktop.__version__)").Trim()
if ($LASTEXITCODE -ne 0) { throw "could not read the app version" }
$Arch = if ([Environment]::Is64BitOperatingSystem) { "x64" } else { "x86" }
$AppDir = Join-Path $Root "dist\buildtrace"
$App = Join-Path $AppDir "buildtrace.exe"
$Archive = Join-Path $Root "dist\BuildTrace-$Version-windows-$Arch.zip"

# --- PyInstaller -------------------------------------------------------------------------------------
Write-Host "build: pyinstaller buildtrace.spec (takes a few minutes)"
$watch = [Diagnostics.Stopwatch]::StartNew()
Invoke-Checked $VenvPy @("-m", "PyInstaller", "buildtrace.spec", "--noconfirm", "--log-level", "WARN") | Out-Null
Write-Host ("build: built {0} in {1:N0} s" -f $AppDir, $watch.Elapsed.TotalSeconds)

# --- Tesseract inside the folder (optional) ----------------------------------------------------------
$BundledTesseract = ""
if ($TesseractDir -ne "") {
    $source = (Resolve-Path $TesseractDir).Path
    if (-not (Test-Path (Join-Path $source "tesseract.exe"))) {
        throw "$TesseractDir holds no tesseract.exe; pass the UB Mannheim install folder (e.g. C:\Program Files\Tesseract-OCR)"
    }
    if (-not (Test-Path (Join-Path $source "tessdata\eng.traineddata"))) {
        throw "$TesseractDir\tessdata holds no eng.traineddata; install Tesseract with the English language data"
    }
    $target = Join-Path $AppDir "tesseract"
    Write-Host "build: copying Tesseract from $source to $target"
    if (Test-Path $target) { Remove-Item -Recurse -Force $target }
    Copy-Item -Recurse -Path $source -Destination $target
    # The uninstaller of the source install is of no use inside our folder.
    Get-ChildItem $target -Filter "tesseract-uninstall.exe" -ErrorAction SilentlyContinue | Remove-Item -Force
    $BundledTesseract = Join-Path $target "tesseract.exe"
}

# --- Smoke test --------------------------------------------------------------------------------------
function Invoke-SmokeTest {
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ("buildtrace-smoke-" + [Guid]::NewGuid().ToString("N"))
    New-Item -ItemType Directory -Path $tmp | Out-Null
    $saved = @{ BUILDTRACE_HOME = $env:BUILDTRACE_HOME; BUILDTRACE_TESSERACT = $env:BUILDTRACE_TESSERACT;
                QT_QPA_PLATFORM = $env:QT_QPA_PLATFORM }
    # A throw-away data folder, so the smoke test touches nothing of the builder's.
    $env:BUILDTRACE_HOME = Join-Path $tmp "home"
    $env:QT_QPA_PLATFORM = "offscreen"
    if ($BundledTesseract -ne "") { $env:BUILDTRACE_TESSERACT = $BundledTesseract }
    Push-Location $tmp  # the frozen app must not lean on the source tree
    try {
        Write-Host "smoke: buildtrace --version"
        Invoke-Checked $App @("--version") | Out-Null

        Write-Host "smoke: buildtrace doctor"
        $code = Invoke-Checked $App @("doctor") -Allowed @(0, 1)
        if ($code -eq 1) { Write-Warning "smoke: Tesseract not found (pass -TesseractDir to bundle it)" }

        Write-Host "smoke: buildtrace compare (the bundled sample, 2 worker processes)"
        $out = Join-Path $tmp "out"
        Invoke-Checked $App @("compare", (Join-Path $Root "resources\sample\old.pdf"),
            (Join-Path $Root "resources\sample\new.pdf"), "--out", $out, "--summary", "offline",
            "--jobs", "2") -Allowed @(0, 1) | Out-Null
        foreach ($f in @("report.json", "changes.csv", "report.pdf")) {
            $p = Join-Path $out $f
            if (-not (Test-Path $p) -or (Get-Item $p).Length -eq 0) { throw "smoke: $f not written" }
        }
        $report = Get-Content -Raw -Encoding UTF8 (Join-Path $out "report.json") | ConvertFrom-Json
        $numbers = @($report.sheets | ForEach-Object { $_.sheet_number } | Sort-Object)
        $changes = ($report.sheets | ForEach-Object { @($_.changes).Count } | Measure-Object -Sum).Sum
        Write-Host "smoke: report.json: $($numbers.Count) sheets ($($numbers -join ', ')), $changes changes"
        if (($numbers -join ",") -ne "AF101,AF600" -or $changes -eq 0) {
            throw "smoke: expected the sample's sheets AF101 and AF600 with changes"
        }

        # The app has no "quit after the window shows" switch, so the GUI check is: `gui --sample` opens
        # the sample comparison offscreen and runs its job (worker processes spawned from the frozen
        # executable); we wait until the database says the job is done, check the GUI is still up, then
        # stop it. A missing Qt plugin or import ends the GUI at once; a broken worker start leaves the
        # job unfinished.
        Write-Host "smoke: GUI (offscreen; gui --sample, waits up to $GuiSeconds s for the sample job)"
        $guiHome = Join-Path $tmp "gui-home"
        $env:BUILDTRACE_HOME = $guiHome
        $errLog = Join-Path $tmp "gui.err.log"
        $gui = Start-Process -FilePath $App -ArgumentList @("gui", "--sample") -PassThru -NoNewWindow `
            -RedirectStandardOutput (Join-Path $tmp "gui.log") -RedirectStandardError $errLog
        $null = $gui.Handle  # without the handle, .ExitCode stays empty after the process ends
        $env:BUILDTRACE_HOME = Join-Path $tmp "home"
        # A script file, not `python -c`: Windows PowerShell 5.1 mangles double quotes in native arguments.
        $jobStates = Join-Path $tmp "job_states.py"
        Set-Content -Path $jobStates -Encoding ASCII -Value @(
            "import sqlite3, sys",
            "print(','.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select state from jobs')))")
        $state = ""
        $waited = 0
        while ($waited -lt $GuiSeconds -and -not $gui.HasExited) {
            Start-Sleep -Seconds 2
            $waited += 2
            $db = Join-Path $guiHome "buildtrace.db"
            if (Test-Path $db) {
                # "Continue": in Windows PowerShell 5.1 a redirected stderr line would stop the script.
                $ErrorActionPreference = "Continue"
                $state = (& $VenvPy $jobStates $db 2>$null | Out-String).Trim()
                $ErrorActionPreference = "Stop"
            }
            if ($state -eq "done") { break }
        }
        if ($gui.HasExited) {
            Get-Content $errLog -Tail 20 | Write-Host
            throw "smoke: the GUI exited with $($gui.ExitCode) after $waited s"
        }
        # Stop the GUI and its job worker processes (the /T tree of this one process id).
        & taskkill.exe /PID $gui.Id /T /F | Out-Null
        $gui.WaitForExit()
        if ($state -ne "done") {
            Get-Content $errLog -Tail 20 | Write-Host
            throw "smoke: the GUI's sample job is '$state' after $waited s"
        }
        if (Select-String -Path $errLog -Pattern "Traceback" -Quiet) {
            Get-Content $errLog -Tail 30 | Write-Host
            throw "smoke: the GUI logged a traceback"
        }
        Write-Host "smoke: GUI ran the sample comparison in about $waited s and stayed up"
    }
    finally {
        Pop-Location
        foreach ($k in @($saved.Keys)) {
            if ($null -eq $saved[$k]) { Remove-Item "env:$k" -ErrorAction SilentlyContinue }
            else { Set-Item -Path "env:$k" -Value $saved[$k] }
        }
        Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
    }
}

if (-not $SkipSmoke) {
    Invoke-SmokeTest
    Write-Host "smoke: passed"
}

# --- Zip ---------------------------------------------------------------------------------------------
Write-Host "build: packing $Archive"
if (Test-Path $Archive) { Remove-Item -Force $Archive }
Compress-Archive -Path $AppDir -DestinationPath $Archive -CompressionLevel Optimal
$size = "{0:N0} MB" -f ((Get-Item $Archive).Length / 1MB)
Write-Host "build: done: $Archive ($size)"
