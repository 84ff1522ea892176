"""moto's DynamoDB-compatible server for the test suite, on a free loopback port.

Runs single-threaded: moto's threaded server restores a whole table on a cancelled transaction
without a lock, so concurrent transactions could corrupt each other. Prints the port, then serves
until its standard input closes (the test process that started it has ended).
"""

import logging
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def exit_when_parent_ends() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = DomainDispatcherApplication(create_backend_app)
    # MOTO_HOST=0.0.0.0 lets containers reach it (scripts/sam-events.sh); loopback otherwise.
    server = make_server(os.environ.get("MOTO_HOST", "127.0.0.1"), port, app, threaded=False)
    print(server.server_port, flush=True)
    threading.Thread(target=exit_when_parent_ends, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
