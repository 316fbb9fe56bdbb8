"""A class searches together: join a teacher's search through its proxy, or host one for the class.

Joining needs the proxy's URL (``grpc://HOST:PORT``) and the search's name; the window then trains trials of
that search like any other worker (``engine.labs.search.launch.join``) and shows every node's trials.  Hosting
puts Optuna's gRPC storage proxy (``engine.labs.search.proxy.start_proxy``) in front of a journal file of this
machine, so the students need no database and no credentials: the next race started here is the class's.
"""
from __future__ import annotations

import socket
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from gui.widgets.common import error_label, show_line

DEFAULT_PORT = 50051


def proxy_available() -> bool:
    """Whether this version has the proxy (``engine.labs.search.proxy``) and gRPC installed."""
    try:
        import grpc  # noqa: F401

        from engine.labs.search.proxy import start_proxy  # noqa: F401
    except ImportError:
        return False
    return True


class ClassBox(QWidget):
    """``join_wanted(url, name)`` and ``host_wanted(host, port)``; :meth:`say` shows the one line."""

    join_wanted = Signal(str, str)
    host_wanted = Signal(str, int)
    unhost_wanted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.url = QLineEdit()
        self.url.setPlaceholderText("grpc://HOST:PORT")
        self.url.setToolTip("The address the teacher's window shows under Host a class search")
        self.study = QLineEdit("class")
        self.study.setToolTip("The search's name in the teacher's storage")
        self.join_button = QPushButton("Join a class search")
        self.join_button.setToolTip("Train trials of the teacher's search here; every node's trials show live")
        self.join_button.clicked.connect(self._join)
        self.host = QLineEdit("0.0.0.0")
        self.host.setToolTip("The address to listen on: 0.0.0.0 for every network of this machine, "
                             "127.0.0.1 for this machine only")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.host_button = QPushButton("Host a class search")
        self.host_button.setToolTip("Let students join the next race started here through a proxy on this "
                                    "machine (no database, no passwords)")
        self.host_button.clicked.connect(self._host)
        self.message = error_label()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.hide()
        if not proxy_available():
            self.host_button.setEnabled(False)
            self.host_button.setToolTip("Hosting needs engine.labs.search.proxy and grpcio, not in this version")

        form = QFormLayout()
        form.addRow("Proxy", self.url)
        form.addRow("Search", self.study)
        hosting = QHBoxLayout()
        hosting.addWidget(self.host, 1)
        hosting.addWidget(self.port)
        form.addRow("Listen", hosting)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>A class search</b>"))
        column.addLayout(form)
        column.addWidget(self.join_button)        # one above the other: the column stays narrow in large type
        column.addWidget(self.host_button)
        column.addWidget(self.info)
        column.addWidget(self.message)
        self.hosting = False

    def say(self, line: str | None) -> None:
        show_line(self.message, line)

    def show_hosting(self, text: str | None) -> None:
        self.hosting = text is not None
        self.info.setText(text or "")
        self.info.setVisible(text is not None)
        self.host_button.setText("Stop hosting" if self.hosting else "Host a class search")

    @Slot()
    def _join(self) -> None:
        url, name = self.url.text().strip(), self.study.text().strip()
        if not url.startswith("grpc://"):
            self.say(f"Proxy: a class search's address is grpc://HOST:PORT, got {url!r}")
            return
        if not name:
            self.say("Search: give the search's name (the teacher's window shows it)")
            return
        self.say(None)
        self.join_wanted.emit(url, name)

    @Slot()
    def _host(self) -> None:
        if self.hosting:
            self.unhost_wanted.emit()
            return
        host = self.host.text().strip()
        if not host:
            self.say("Listen: give an address (0.0.0.0 for every network)")
            return
        self.say(None)
        self.host_wanted.emit(host, self.port.value())


class ClassHost:
    """The proxy this window hosts for a class, in front of one journal file, and the name of each race in it.

    Each race started while hosting is a new search in the same journal (``class-1``, ``class-2``...), so the
    students' windows, which join by name, never mix two races."""

    def __init__(self, proxy, journal: str, prefix: str):
        self.proxy, self.journal, self.prefix = proxy, journal, prefix or "class"
        self.races = 0

    @classmethod
    def start(cls, folder: Path, host: str, port: int, prefix: str) -> ClassHost:
        from engine.labs.search.launch import default_storage
        from engine.labs.search.proxy import start_proxy
        folder.mkdir(parents=True, exist_ok=True)
        journal = default_storage(folder)
        return cls(start_proxy(journal, host, port), journal, prefix)

    def next_race(self) -> str:
        self.races += 1
        return self.study

    @property
    def study(self) -> str:
        return f"{self.prefix}-{max(self.races, 1)}"

    def address(self) -> str:
        host = self.proxy.host
        shown = host if host not in ("0.0.0.0", "", "::") else socket.gethostname()
        return f"grpc://{shown}:{self.proxy.port}"

    def text(self) -> str:
        started = "running" if self.races else "press Start to begin it"
        return f"Hosting: students join <b>{self.address()}</b>, search <b>{self.study}</b> ({started})."

    def stop(self) -> None:
        self.proxy.stop()
