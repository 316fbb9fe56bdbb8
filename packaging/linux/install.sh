#!/bin/sh
# Install Descent Lab for this user (no root needed): run it from the unpacked archive.
#
#   ./install.sh
#
# puts the app in ~/.local/lib/descent-lab, a "descent-lab" command in ~/.local/bin, the icon in
# the hicolor theme and a menu entry in ~/.local/share/applications, so the app is in the desktop's
# menu and opens with a click. Running it again upgrades in place. To remove it:
# ~/.local/lib/descent-lab/uninstall.sh (your settings and logs stay unless you add --purge).
#
# DESCENT_LAB_PREFIX (default ~/.local) and XDG_DATA_HOME move where things go.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${DESCENT_LAB_PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
case $DATA in /*) ;; *) DATA=$HOME/.local/share ;; esac  # the XDG spec: a relative path is ignored
APP_DIR=$PREFIX/lib/descent-lab
BIN_DIR=$PREFIX/bin
MANIFEST=$APP_DIR/installed-files.txt
ICON_SIZES="16 24 32 48 64 128 256 512"

if [ ! -x "$HERE/descent-lab/descent-lab" ]; then
    echo "install.sh: $HERE/descent-lab/descent-lab is missing: run this from the unpacked archive" >&2
    exit 1
fi

# The app: copied beside the old one, then swapped in, so a failed copy leaves the old one working.
mkdir -p "$PREFIX/lib" "$BIN_DIR"
rm -rf "$APP_DIR.new"
cp -R "$HERE/descent-lab" "$APP_DIR.new"
cp "$HERE/uninstall.sh" "$APP_DIR.new/uninstall.sh"
chmod 755 "$APP_DIR.new/uninstall.sh"
rm -rf "$APP_DIR"
mv "$APP_DIR.new" "$APP_DIR"
: > "$MANIFEST"

ln -sf "$APP_DIR/descent-lab" "$BIN_DIR/descent-lab"
echo "$BIN_DIR/descent-lab" >> "$MANIFEST"

for size in $ICON_SIZES; do
    dir=$DATA/icons/hicolor/${size}x${size}/apps
    mkdir -p "$dir"
    cp "$HERE/icons/descent-lab-$size.png" "$dir/descent-lab.png"
    echo "$dir/descent-lab.png" >> "$MANIFEST"
done
mkdir -p "$DATA/icons/hicolor/scalable/apps"
cp "$HERE/icons/descent-lab.svg" "$DATA/icons/hicolor/scalable/apps/descent-lab.svg"
echo "$DATA/icons/hicolor/scalable/apps/descent-lab.svg" >> "$MANIFEST"

# The menu entry. Exec is quoted (a home folder may have spaces); inside the quotes the desktop
# entry spec asks for \ " ` $ to be escaped with a backslash.
exec_path=$(printf '%s' "$APP_DIR/descent-lab" | sed 's/[\\"`$]/\\&/g')
mkdir -p "$DATA/applications"
desktop=$DATA/applications/descent-lab.desktop
sed -e "s|@EXEC@|\"$exec_path\"|" -e "s|@TRYEXEC@|$APP_DIR/descent-lab|" \
    "$HERE/descent-lab.desktop.in" > "$desktop"
chmod 644 "$desktop"
echo "$desktop" >> "$MANIFEST"

# Let the desktop notice at once (optional tools: without them it notices at the next login).
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true

echo "Descent Lab is installed: open it from the menu (Education), or run $BIN_DIR/descent-lab"
echo "To remove it: $APP_DIR/uninstall.sh"
