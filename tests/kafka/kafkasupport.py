"""What the real-Kafka tests share: the set-up scripts/kafka.sh started (read from its folder),
children under deadlines of our own, a PostgreSQL server, and consumer groups of other clients
(kcat -G and python3-confluent-kafka) that a test can pause with SIGSTOP.

Every wait here has a deadline; a child still running at the end of a test is killed.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAFKA_SH = os.path.join(REPO, "scripts", "kafka.sh")
PYTHON = "/usr/bin/python3"  # Debian's, which has python3-confluent-kafka

_children = []


def kill_children():
    for p in _children:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    _children.clear()


def run(argv, timeout, env=None, check=False):
    """Runs to completion within `timeout` seconds (killed then: returncode -9, timed_out)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, stdin=subprocess.DEVNULL, errors="replace")
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        timed_out = True
    r = subprocess.CompletedProcess(argv, p.returncode, out, err)
    r.timed_out = timed_out
    r.seconds = time.monotonic() - start
    if check and (timed_out or p.returncode != 0):
        raise AssertionError("%s failed (%s, %.1f s):\n%s\n%s" % (
            " ".join(argv[:4]), "timed out" if timed_out else "exit %d" % p.returncode,
            r.seconds, out[-3000:], err[-3000:]))
    return r


def spawn(argv, env=None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
    p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env,
                         text=True)
    _children.append(p)
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(condition, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


class Kafka:
    """The set-up in DIR, as scripts/kafka.sh left it (bootstrap, client.properties, ...)."""

    def __init__(self, folder, binary):
        self.dir = os.path.abspath(folder)
        self.binary = binary
        with open(os.path.join(self.dir, "bootstrap")) as f:
            self.bootstrap = f.read().strip()
        with open(os.path.join(self.dir, "setup")) as f:
            self.setup = f.read().strip()
        with open(os.path.join(self.dir, "version")) as f:
            self.version = f.read().strip()
        self.brokers = len(self.bootstrap.split(","))
        self.client = {}  # librdkafka properties of the app's user, password included
        self.password = ""
        props = os.path.join(self.dir, "client.properties")
        if os.path.exists(props):
            with open(props) as f:
                for line in f:
                    if "=" in line and not line.startswith("#"):
                        k, v = line.strip().split("=", 1)
                        self.client[k] = v
            with open(os.path.join(self.dir, "client.password")) as f:
                self.password = f.read().strip()
            self.client["sasl.password"] = self.password

    @property
    def secured(self):
        return self.setup == "cluster"

    def user_password(self, user):
        with open(os.path.join(self.dir, user + ".password")) as f:
            return f.read().strip()

    def cli_security(self, user="studio", ca=None):
        """The app's connection options beyond --broker (no password: that is the env's)."""
        if not self.secured:
            return []
        return ["--security-protocol", "sasl_ssl", "--sasl-mechanism", "SCRAM-SHA-512",
                "--sasl-username", user, "--ssl-ca", ca or self.client["ssl.ca.location"]]

    def env(self, password=None, **extra):
        e = dict(os.environ)
        e.pop("CLICKSTREAM_SASL_PASSWORD", None)
        if self.secured:
            e["CLICKSTREAM_SASL_PASSWORD"] = self.password if password is None else password
        e.update(extra)
        return e

    def studio(self, args, timeout=60, env=None, check=False, **kw):
        """Runs `clickstream-studio SUBCOMMAND --broker B <security> ARGS...`."""
        argv = [self.binary, args[0], "--broker", self.bootstrap] + self.cli_security(**kw) + \
            list(args[1:])
        return run(argv, timeout, env=env or self.env(), check=check)

    def studio_spawn(self, args, env=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE):
        argv = [self.binary, args[0], "--broker", self.bootstrap] + self.cli_security() + \
            list(args[1:])
        return spawn(argv, env=env or self.env(), stdout=stdout, stderr=stderr)

    def librdkafka_config(self):
        """librdkafka properties of the app's user (dict), bootstrap included."""
        conf = {"bootstrap.servers": self.bootstrap}
        for k, v in self.client.items():
            conf["sasl.mechanisms" if k == "sasl.mechanism" else k] = v
        return conf

    def kcat_config_file(self, folder):
        path = os.path.join(folder, "kcat.properties")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            for k, v in self.librdkafka_config().items():
                f.write("%s=%s\n" % (k, v))
        return path

    def kafka_tool(self, cls, args, timeout=90):
        """One of Kafka's own tools (same resolve as the brokers), as the super user."""
        return run([KAFKA_SH, "run-class", self.dir, cls, "--bootstrap-server", self.bootstrap,
                    "--command-config", os.path.join(self.dir, "admin.properties")] + list(args),
                   timeout)

    def node_pid(self, n):
        """The pid of node n (scripts/kafka.sh status), or None when it is not running."""
        r = run([KAFKA_SH, "status", self.dir], 30, check=True)
        for line in r.stdout.splitlines():
            cols = line.split()
            if len(cols) >= 3 and cols[0] == str(n) and cols[2] == "running":
                return int(cols[1])
        return None

    def metadata(self, topic, timeout=20):
        """kcat's metadata (-L -J, as the super user) of `topic` (kcat takes one); None without
        an answer."""
        r = run(["kcat", "-F", os.path.join(self.dir, "admin.librdkafka"), "-L", "-J", "-m",
                 str(max(1, timeout // 2)), "-t", topic], timeout)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def fully_in_sync(self, topics):
        """Every broker is in the metadata and every partition of `topics` has all its replicas
        in its ISR (a restarted node has caught up)."""
        def ids(xs):
            return sorted(x["id"] if isinstance(x, dict) else x for x in xs)
        for topic in topics:
            md = self.metadata(topic)
            if not md or len(md.get("brokers", [])) != self.brokers:
                return False
            mine = [t for t in md.get("topics", []) if t.get("topic") == topic]
            if len(mine) != 1 or mine[0].get("error") or not mine[0].get("partitions"):
                return False
            for p in mine[0]["partitions"]:
                if p.get("error") or p.get("leader", -1) < 0 or \
                        ids(p.get("isrs", [])) != ids(p.get("replicas", [])):
                    return False
        return True

    def create_topic(self, name, partitions):
        r = self.studio(["topics", "--create", name, "--partitions", str(partitions),
                         "--replication-factor", str(min(3, self.brokers)), "--json"], 60)
        if r.returncode != 0:
            raise AssertionError("topics --create %s failed:\n%s%s" % (name, r.stdout, r.stderr))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def produce(self, topic, rps, seconds, *extra):
        r = self.studio(["produce", "--topic", topic, "--rps", str(rps), "--duration",
                         str(seconds), "--json"] + list(extra), seconds + 60)
        if r.returncode != 0:
            raise AssertionError("produce failed:\n%s%s" % (r.stdout, r.stderr))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def kcat_group(self, group, topic, folder):
        """A kcat balanced consumer (-G) in `group`: reads and commits (auto commit 1 s)."""
        return spawn(["kcat", "-F", self.kcat_config_file(folder), "-G", group,
                      "-X", "auto.commit.interval.ms=1000", "-X", "auto.offset.reset=earliest",
                      "-X", "session.timeout.ms=60000", "-q", "-o", "beginning", topic])

    def python_group(self, group, topic, folder, commit_every=1):
        """A python3-confluent-kafka consumer in `group`, committing synchronously after every
        `commit_every` messages and whenever it is idle; prints a line per counted commit."""
        conf = dict(self.librdkafka_config())
        conf.update({"group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 60000,
                     "client.id": "python-" + group})
        path = os.path.join(folder, group + ".json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(conf, f)
        # A commit of one message covers only that message's partition, so the other partitions
        # stay `pending` until the next idle commit of everything read (the kafka_cluster_groups
        # failure of a CI run: the 2000th message's commit cleared `pending`, partitions 0, 2 and
        # 3 kept lags of 44, 39 and 1 for good). A commit refused in passing (a coordinator
        # moving, a rebalance) is retried at the next chance rather than ending the consumer.
        code = (
            "import json, sys\n"
            "from confluent_kafka import Consumer, KafkaException\n"
            "c = Consumer(json.load(open(sys.argv[1])))\n"
            "c.subscribe([sys.argv[2]])\n"
            "n = 0\n"
            "pending = False\n"
            "def commit(**kw):\n"
            "    try:\n"
            "        c.commit(asynchronous=False, **kw)\n"
            "        return True\n"
            "    except KafkaException as e:\n"
            "        print('commit failed', e, file=sys.stderr, flush=True)\n"
            "        return False\n"
            "while True:\n"
            "    m = c.poll(0.2)\n"
            "    if m is None or m.error():\n"
            "        if pending and commit():\n"  # idle: commit everything read so far
            "            pending = False\n"
            "        continue\n"
            "    n += 1\n"
            "    pending = True\n"
            "    if n % int(sys.argv[3]) == 0 and commit(message=m):\n"
            "        print('committed', n, flush=True)\n")
        return spawn([PYTHON, "-c", code, path, topic, str(commit_every)],
                     stdout=subprocess.PIPE)


def wait_progress(condition, progress, instances, stall_seconds, limit_seconds):
    """Waits until condition() holds. False once one of `instances` (Headless) exited, once
    progress() stood still for `stall_seconds`, or after `limit_seconds`: a deadline that follows
    the work's progress, not the speed of the machine."""
    start = last_move = time.monotonic()
    last = None
    while True:
        if condition():
            return True
        now = time.monotonic()
        value = progress()
        if value != last:
            last, last_move = value, now
        if any(i.proc.poll() is not None for i in instances) or \
                now - last_move > stall_seconds or now - start > limit_seconds:
            return condition()
        time.sleep(0.5)


class Headless:
    """A headless aggregator (`headless --producers 0 --json --json-status`) whose status, one
    JSON object a second on stdout, is read as it comes; its stderr goes to a file (a pipe nobody
    reads fills up and stops it). stop() ends it with SIGTERM: it drains (lag 0 from a fresh
    query), flushes its sinks and prints its summary, the last JSON line."""

    def __init__(self, kafka, folder, name, topic, group, postgres_uri, env, extra=()):
        self.name = name
        self.err_path = os.path.join(folder, name + ".stderr")
        self._err = open(self.err_path, "w")
        self.lines = []
        self._lock = threading.Lock()
        self.proc = kafka.studio_spawn(
            ["headless", "--producers", "0", "--topic", topic, "--group", group, "--postgres",
             postgres_uri, "--checkpoint-ms", "500", "--duration", "3600", "--drain-timeout",
             "180", "--json", "--json-status"] + list(extra), env=env, stdout=subprocess.PIPE,
            stderr=self._err)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                with self._lock:
                    self.lines.append(doc)

    def status(self):
        """The last status (or summary) it printed; {} before the first."""
        with self._lock:
            return dict(self.lines[-1]) if self.lines else {}

    def stderr_tail(self, chars=3000):
        if not self._err.closed:
            self._err.flush()
        with open(self.err_path, errors="replace") as f:
            return f.read()[-chars:]

    def wait_for(self, condition, stall_seconds, limit_seconds):
        """Waits until condition(status) holds; see wait_progress."""
        return wait_progress(lambda: self.status() and condition(self.status()),
                             lambda: self.status().get("consumed"), [self], stall_seconds,
                             limit_seconds)

    def stop(self, timeout=300):
        """SIGTERM, then its summary (the last JSON line) and exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)
        self._err.close()
        with self._lock:
            summary = self.lines[-1] if self.lines else {}
        return self.proc.returncode, summary

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)


def scrape(port, timeout=5):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as r:
            return r.read().decode()
    except OSError:
        return ""


def metric_value(text, name, **labels):
    """The value of the first sample of `name` whose labels include `labels`; None if absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all('%s="%s"' % (k, v) in head for k, v in labels.items()):
            return float(value)
    return None


class Postgres:
    """A throw-away PostgreSQL 15 on 127.0.0.1 (as the `postgres` user when we are root)."""

    PASSWORD = "studio-test-password"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="studio-kafka-pg-")
        self.port = free_port()
        bindir = max((os.path.join("/usr/lib/postgresql", v, "bin")
                      for v in os.listdir("/usr/lib/postgresql")),
                     key=lambda d: int(os.path.basename(os.path.dirname(d))))
        self.bin = bindir
        self.proc = None
        self.as_user = None
        if os.getuid() == 0:
            pw = pwd.getpwnam("postgres")
            self.as_user = (pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, *self.as_user)

    def _demote(self):
        if self.as_user:
            os.setgid(self.as_user[1])
            os.setuid(self.as_user[0])

    def start(self):
        data = os.path.join(self.dir, "data")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.PASSWORD)
        if self.as_user:
            os.chown(pwfile, *self.as_user)
        r = subprocess.run([self.bin + "/initdb", "-D", data, "-U", "studio", "--pwfile", pwfile,
                            "-E", "UTF8", "--locale=C", "--auth=scram-sha-256", "--no-sync"],
                           preexec_fn=self._demote, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("initdb failed: " + r.stderr[-2000:])
        self.proc = subprocess.Popen(
            [self.bin + "/postgres", "-D", data, "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "shared_buffers=16MB"],
            preexec_fn=self._demote, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _children.append(self.proc)
        ok = wait_for(lambda: subprocess.run(
            [self.bin + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            timeout=10).returncode == 0, 60)
        if not ok:
            raise AssertionError("PostgreSQL did not start")
        env = dict(os.environ, PGPASSWORD=self.PASSWORD)
        subprocess.run([self.bin + "/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "studio", "studio"], env=env, check=True, timeout=30)
        return self

    def uri(self, database="studio"):
        return "postgresql://studio@127.0.0.1:%d/%s" % (self.port, database)

    def create_database(self, name):
        env = dict(os.environ, PGPASSWORD=self.PASSWORD)
        subprocess.run([self.bin + "/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "studio", name], env=env, check=True, timeout=30)
        return self.uri(name)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
