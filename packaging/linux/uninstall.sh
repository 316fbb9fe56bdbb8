#!/bin/sh
# Remove Descent Lab installed by install.sh: the app, its command, menu entry and icons.
#
#   ~/.local/lib/descent-lab/uninstall.sh            keeps your settings and logs
#   ~/.local/lib/descent-lab/uninstall.sh --purge    removes them too
#
# Removes exactly the files install.sh listed in installed-files.txt, then the app's folder.
set -eu

PREFIX=${DESCENT_LAB_PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
case $DATA in /*) ;; *) DATA=$HOME/.local/share ;; esac
CONFIG=${XDG_CONFIG_HOME:-$HOME/.config}
case $CONFIG in /*) ;; *) CONFIG=$HOME/.config ;; esac
APP_DIR=$PREFIX/lib/descent-lab
MANIFEST=$APP_DIR/installed-files.txt

if [ ! -f "$MANIFEST" ]; then
    echo "uninstall.sh: Descent Lab is not installed in $APP_DIR (no $MANIFEST)" >&2
    exit 1
fi

while IFS= read -r path; do
    [ -n "$path" ] || continue
    rm -f "$path"
    case $path in  # the icon's own size folders go too when nothing else is in them
        "$DATA/icons/hicolor/"*) rmdir "$(dirname "$path")" "$(dirname "$(dirname "$path")")" 2>/dev/null || true ;;
    esac
done < "$MANIFEST"
rm -rf "$APP_DIR"

if [ "${1:-}" = "--purge" ]; then
    rm -rf "$DATA/descent-lab" "$CONFIG/DescentLab"  # logs (gui/paths.py) and settings (QSettings)
fi

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true

echo "Descent Lab is removed."
[ "${1:-}" = "--purge" ] || echo "Your settings ($CONFIG/DescentLab) and logs ($DATA/descent-lab) are kept; --purge removes them."
