"""aiosmtpd handler for deskprov's mail tests.

Each message is written to DIR/<local part of its first recipient>/<ns>.eml, and the time it
was received (unix seconds, float) appended to DIR/<local part>/times. Per recipient local
part, DIR/control/<local part> can tell the handler what to do instead:
  a line like "451 try again later": answer DATA with it (the message is not stored);
  "die": store the message, then exit the process before answering (a crash after accepting
  the data); the control file is removed first, so a restarted server answers normally.
"""

import os
import time


class Handler:
    def __init__(self, directory):
        self.directory = directory

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        local = envelope.rcpt_tos[0].split("@")[0]
        control = os.path.join(self.directory, "control", local)
        order = ""
        if os.path.exists(control):
            with open(control) as f:
                order = f.read().strip()
        if order and order != "die":
            return order
        box = os.path.join(self.directory, local)
        os.makedirs(box, exist_ok=True)
        now = time.time()
        path = os.path.join(box, "%d.eml" % time.time_ns())
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        with open(os.path.join(box, "times"), "a") as f:
            f.write("%f\n" % now)
        if order == "die":
            os.remove(control)
            os._exit(1)
        return "250 OK"
