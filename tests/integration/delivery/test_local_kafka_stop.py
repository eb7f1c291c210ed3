"""Stopping a broker we just launched works even before its process shows `kafka.Kafka` (a bug seen here)."""

import subprocess
import sys

from deploy.local.kafka import LocalKafka


def test_stop_ends_our_child_even_when_its_command_line_is_not_a_broker_yet(tmp_path):
    broker = LocalKafka(tmp_path, port=1)
    broker.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    broker.pid_file.write_text(str(broker.proc.pid))
    broker.stop(timeout=10)
    assert broker.proc.poll() is not None
    assert not broker.pid_file.exists()
