; Inno Setup script for Descent Lab's Windows installer.
;
; BUILT ON WINDOWS ONLY (not built or tested on the Linux development machines). On Windows:
;
;   .venv\Scripts\python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\descent-lab.spec
;   dist\descent-lab\descent-lab.exe --smoke-test      (a windowed .exe prints nothing: check %ERRORLEVEL% is 0)
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\descent-lab.iss
;
; gives dist\DescentLab-0.1.0-setup.exe: a per-user install (no administrator rights needed, as a
; teacher on a school PC often has none) into %LOCALAPPDATA%\Programs\Descent Lab, with a Start
; menu entry, an optional desktop icon and an uninstaller in "Apps & features". Settings (registry,
; QSettings) and logs (%LOCALAPPDATA%\Descent Lab\logs) are the user's and are left in place.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C1F4E2A-8D3B-4B7E-9A51-3E0D2C7B9F14}
AppName=Descent Lab
AppVersion={#AppVersion}
AppPublisher=Descent Lab
DefaultDirName={localappdata}\Programs\Descent Lab
DefaultGroupName=Descent Lab
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=DescentLab-{#AppVersion}-setup
SetupIconFile=..\..\resources\descent-lab.ico
UninstallDisplayIcon={app}\descent-lab.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\descent-lab\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Descent Lab"; Filename: "{app}\descent-lab.exe"
Name: "{autodesktop}\Descent Lab"; Filename: "{app}\descent-lab.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\descent-lab.exe"; Description: "{cm:LaunchProgram,Descent Lab}"; Flags: nowait postinstall skipifsilent
