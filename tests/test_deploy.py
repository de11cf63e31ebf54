#!/usr/bin/python3
"""Checks docker-compose.yml and deploy/ without a Docker engine (ctest: deploy_compose).

- docker-compose.yml parses; the services exist (a single KRaft broker by default, three SASL_SSL
  brokers under the `cluster` profile running deploy/kafka/cluster.properties, the settings of the
  test suite's cluster, on the Kafka releases tests/kafka/pom.xml pins, PostgreSQL, Redis, Prometheus,
  Grafana, the Kafka exporters) with their ports, a health check each and named volumes;
- every host file it mounts exists in the repository; no literal secret is in it, every
  password comes from .env (documented in .env.example with placeholders; .env is git-ignored);
- deploy/prometheus/prometheus.yml parses (and passes `promtool check config` when promtool is
  there) and scrapes the app at host.docker.internal:9464 and the exporters compose runs;
- Grafana's provisioning parses and points at the Prometheus service and the mounted dashboards;
- the dashboard JSON parses and every metric (and label) its queries name is one the app really
  exports: the built binary runs headless with Redis (started here, with a password) and an
  alert rule that fires, and its /metrics is scraped while it runs;
- deploy/clickstream-studio-profiles.json matches the compose ports and has no password.

Run: /usr/bin/python3 tests/test_deploy.py --source . --binary build/app/clickstream-studio
(--dashboard FILE checks another dashboard against the same metrics). Exit 0 when all pass.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import yaml
except ImportError:  # pragma: no cover
    print("FAIL: python3-yaml is missing (scripts/bootstrap.sh installs it); run this with "
          "Debian's /usr/bin/python3", file=sys.stderr)
    sys.exit(1)

ERRORS = []


def fail(message):
    ERRORS.append(message)
    print("FAIL: " + message, flush=True)


def check(condition, message):
    if not condition:
        fail(message)
    return condition


# ---------------------------------------------------------------------------------------------
# docker-compose.yml

EXPECTED_PORTS = {  # service -> host ports it must publish
    "kafka": {9092},
    "kafka-1": {19092},
    "kafka-2": {29092},
    "kafka-3": {39092},
    "postgres": {5432},
    "redis": {6379},
    "prometheus": {9090},
    "grafana": {3000},
}
CLUSTER = ["kafka-1", "kafka-2", "kafka-3"]
ONE_SHOT = ["kafka-cluster-tls", "kafka-cluster-acls"]  # run once and exit: no health check
STATEFUL = ["kafka", "kafka-1", "kafka-2", "kafka-3", "postgres", "redis", "prometheus", "grafana"]
SECRET_WORDS = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|JAAS|CREDENTIAL", re.I)
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def host_ports(service):
    ports = set()
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            ports.add(int(p["published"]))
            continue
        parts = str(p).split(":")
        if len(parts) >= 2:
            ports.add(int(parts[-2]))
    return ports


def port_map(service):
    """host port -> container port"""
    out = {}
    for p in service.get("ports") or []:
        parts = str(p).split(":")
        if len(parts) >= 2:
            out[int(parts[-2])] = int(parts[-1].split("/")[0])
    return out


def walk_strings(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_strings(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def only_references(value):
    """True when `value` is made of ${VAR:?...} references, or container-side $$VAR ones."""
    stripped = VAR_REF.sub("", value)
    stripped = re.sub(r"\$\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "", stripped)
    return stripped.strip().strip('"').strip("'") == ""


def check_secrets(compose, source):
    # 1. Environment variables named like secrets hold references, never literals.
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            if key.startswith("KAFKA_LISTENER_NAME_") and key.endswith("_SASL_JAAS_CONFIG"):
                continue  # checked below, value by value
            if SECRET_WORDS.search(key):
                check(only_references(value),
                      f"{name}: environment {key} must come from .env (${{VAR:?...}}), "
                      f"not a literal")
    # 2. Anywhere (commands, JAAS, health checks): password-ish assignments are references.
    patterns = [
        re.compile(r'(?:password|user_[A-Za-z0-9]+)\s*=\s*"([^"]*)"', re.I),
        re.compile(r"--requirepass\s+(\S+)"),
        re.compile(r"--sasl\.password[= ](\S+)"),
        re.compile(r"(?:PGPASSWORD|REDISCLI_AUTH)=(\S+)"),
    ]
    for path, text in walk_strings(compose):
        for pattern in patterns:
            for m in pattern.finditer(text):
                value = m.group(1)
                if value in ("%s",):  # printf format of the health check
                    continue
                check(only_references(value.strip('"\\')),
                      f"{path}: literal secret-looking value in '{m.group(0)[:40]}...'")
        # 3. No ${SECRET_VAR:-default}: a default password would silently be used.
        for m in VAR_REF.finditer(text):
            var, op = m.group(1), m.group(2) or ""
            if SECRET_WORDS.search(var):
                check(op == ":?", f"{path}: ${{{var}}} must be ${{{var}:?message}} (required, "
                                  f"no default), found '{m.group(0)}'")
    # 4. .env.example documents every variable compose needs, with placeholder values only.
    example = os.path.join(source, ".env.example")
    if not check(os.path.isfile(example), ".env.example is missing"):
        return
    values = {}
    for line in open(example, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    needed = {m.group(1) for _, text in walk_strings(compose) for m in VAR_REF.finditer(text)
              if (m.group(2) or "") == ":?"}
    for var in sorted(needed):
        check(var in values, f".env.example does not document {var}, which compose requires")
    for key, value in values.items():
        if SECRET_WORDS.search(key):
            check(value.startswith("change-me"),
                  f".env.example: {key} must be a placeholder (change-me...), not a real value")
    # 5. .env itself is never committed.
    ignore = open(os.path.join(source, ".gitignore"), encoding="utf-8").read().split()
    check("/.env" in ignore or ".env" in ignore, ".gitignore must list /.env")
    if shutil.which("git") and os.path.exists(os.path.join(source, ".git")):
        tracked = subprocess.run(["git", "-C", source, "ls-files", ".env"], capture_output=True,
                                 text=True).stdout.strip()
        check(tracked == "", ".env is tracked by git: it holds the passwords")


def read_properties(path):
    props = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


def check_cluster(services, source):
    """The compose cluster is the test suite's: deploy/kafka/cluster.properties holds the broker
    settings, scripts/kafka.sh (the `kafka` ctest label's cluster) and deploy/kafka/
    compose-cluster.sh (each compose broker's entrypoint) both write it into server.properties
    as it is; here: it says what the issue asks (SASL_SSL + SCRAM-SHA-512 for clients, RF 3,
    min ISR 2, ACLs), both scripts read it, and compose's brokers run that script on it."""
    props_path = os.path.join(source, "deploy", "kafka", "cluster.properties")
    if not check(os.path.isfile(props_path), "deploy/kafka/cluster.properties is missing"):
        return
    props = read_properties(props_path)
    protocols = dict(p.split(":") for p in
                     props.get("listener.security.protocol.map", "").split(",") if ":" in p)
    for key, want in [("default.replication.factor", "3"), ("min.insync.replicas", "2"),
                      ("offsets.topic.replication.factor", "3"),
                      ("transaction.state.log.replication.factor", "3"),
                      ("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
                      ("process.roles", "broker,controller"),
                      ("authorizer.class.name",
                       "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
                      ("allow.everyone.if.no.acl.found", "false")]:
        check(props.get(key) == want, f"cluster.properties: {key} must be {want}, is "
                                      f"{props.get(key)!r}")
    check(protocols.get("EXTERNAL") == "SASL_SSL",
          "cluster.properties: the clients' listener EXTERNAL must be SASL_SSL")
    for script in ("scripts/kafka.sh", "deploy/kafka/compose-cluster.sh"):
        text = open(os.path.join(source, script), encoding="utf-8").read()
        check("cluster.properties" in text, f"{script} does not read deploy/kafka/cluster.properties")
    ids, cluster_ids = set(), set()
    for name in CLUSTER:
        service = services[name]
        env = environment(service)
        ids.add(env.get("NODE_ID"))
        cluster_ids.add(env.get("CLUSTER_ID"))
        check(service.get("entrypoint") == ["/bin/sh", "/deploy/kafka/compose-cluster.sh",
                                            "broker"],
              f"{name}: its entrypoint must be deploy/kafka/compose-cluster.sh broker")
        check(mount_of(service, "/deploy/kafka") == "./deploy/kafka",
              f"{name}: must mount ./deploy/kafka at /deploy/kafka (cluster.properties)")
        check(mount_of(service, "/etc/kafka/tls") == "kafka-cluster-tls",
              f"{name}: must mount the kafka-cluster-tls volume at /etc/kafka/tls")
        voters = env.get("CONTROLLER_QUORUM_VOTERS", "").split(",")
        check(sorted(v.split("@")[1].split(":")[0] for v in voters if "@" in v) == CLUSTER,
              f"{name}: the quorum must be the three brokers")
        advertised = env.get("ADVERTISED_LISTENERS", "")
        external = re.search(r"(\w+)://localhost:(\d+)", advertised)
        if check(external, f"{name}: advertises no localhost listener"):
            listener, port = external.group(1), int(external.group(2))
            check(protocols.get(listener) == "SASL_SSL",
                  f"{name}: listener {listener} on the host must be SASL_SSL")
            inside = port_map(service).get(port)
            check(inside is not None and f"{listener}://:{inside}" in env.get("LISTENERS", ""),
                  f"{name}: advertised localhost:{port} is not mapped to the {listener} listener")
        for var in ("KAFKA_ADMIN_PASSWORD", "CLICKSTREAM_SASL_PASSWORD", "KAFKA_TLS_PASSWORD"):
            check(env.get(var, "").startswith("${" + var + ":?"),
                  f"{name}: {var} must come from .env")
    check(ids == {"1", "2", "3"}, f"cluster node ids must be 1, 2, 3; are {sorted(map(str, ids))}")
    check(len(cluster_ids) == 1 and None not in cluster_ids,
          "the three brokers must share one CLUSTER_ID")
    tls = services["kafka-cluster-tls"]
    check(tls.get("entrypoint", [])[-1:] == ["tls"] and
          mount_of(tls, "/etc/kafka/tls") == "kafka-cluster-tls",
          "kafka-cluster-tls: must run compose-cluster.sh tls into the kafka-cluster-tls volume")
    acls = services["kafka-cluster-acls"]
    check(acls.get("entrypoint", [])[-1:] == ["acls"] and
          set((acls.get("depends_on") or {}).keys()) == set(CLUSTER),
          "kafka-cluster-acls: must run compose-cluster.sh acls once the three brokers are up")


def check_compose(source):
    path = os.path.join(source, "docker-compose.yml")
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    print(f"compose: {len(services)} services: {', '.join(sorted(services))}")

    for name in ["kafka", *CLUSTER, "postgres", "redis", "prometheus", "grafana",
                 "kafka-exporter"]:
        check(name in services, f"service {name} is missing")
    if ERRORS:
        return compose

    # Default services vs the cluster profile.
    for name in ["kafka", *CLUSTER, *ONE_SHOT, "kafka-exporter-cluster"]:
        check(name in services, f"service {name} is missing")
    if ERRORS:
        return compose
    for name in CLUSTER + ONE_SHOT + ["kafka-exporter-cluster"]:
        check("cluster" in (services[name].get("profiles") or []),
              f"{name} must be under the 'cluster' profile")
    for name in ["kafka", "postgres", "redis", "prometheus", "grafana", "kafka-exporter"]:
        check(not services[name].get("profiles"), f"{name} must start by default (no profile)")

    # Images.
    # The Kafka releases the test suite runs (scripts/kafka.sh resolves them from the pom).
    pom = open(os.path.join(source, "tests", "kafka", "pom.xml"), encoding="utf-8").read()
    versions = {key: re.search(rf"<{key}>([^<]+)</{key}>", pom).group(1)
                for key in ("kafka.version", "kafka.cluster.version")}
    for names, key in ((["kafka"], "kafka.version"),
                       (CLUSTER + ONE_SHOT, "kafka.cluster.version")):
        for name in names:
            want = "apache/kafka:" + versions[key]
            check(services[name].get("image") == want,
                  f"{name}: image must be {want} (tests/kafka/pom.xml's {key}, what the tests ran)")
    check(str(services["postgres"].get("image", "")).startswith("postgres:15"),
          "postgres: image must be postgres:15")
    check(str(services["redis"].get("image", "")).startswith("redis:7"),
          "redis: image must be redis:7")

    # Ports: the expected ones, none published twice.
    seen = {}
    for name, service in services.items():
        for port in host_ports(service):
            check(port not in seen, f"host port {port} published by {seen.get(port)} and {name}")
            seen[port] = name
    for name, ports in EXPECTED_PORTS.items():
        check(ports <= host_ports(services[name]),
              f"{name}: publishes {sorted(host_ports(services[name]))}, expected {sorted(ports)}")

    # Health checks everywhere.
    for name, service in services.items():
        if name in ONE_SHOT:
            check(service.get("restart") in ("no", "on-failure"),
                  f"{name}: a one-shot service must not restart once it is done")
            continue
        hc = service.get("healthcheck") or {}
        test = hc.get("test")
        check(bool(test) and not hc.get("disable") and test != ["NONE"],
              f"{name}: no health check")

    # Named volumes: declared, used, and one per stateful service.
    declared = set((compose.get("volumes") or {}).keys())
    used = set()
    for name, service in services.items():
        named_here = []
        for v in service.get("volumes") or []:
            src = v.get("source") if isinstance(v, dict) else str(v).split(":")[0]
            if src.startswith((".", "/", "~")):
                full = os.path.normpath(os.path.join(source, src))
                check(os.path.exists(full), f"{name}: mounts {src}, which is not in the repository")
            else:
                check(src in declared, f"{name}: volume {src} is not declared under volumes:")
                used.add(src)
                named_here.append(src)
        if name in STATEFUL:
            check(named_here, f"{name}: keeps its data in no named volume")
        for env_file in ([service["env_file"]] if isinstance(service.get("env_file"), str)
                         else service.get("env_file") or []):
            env_path = env_file["path"] if isinstance(env_file, dict) else env_file
            if os.path.basename(env_path) != ".env":
                check(os.path.isfile(os.path.join(source, env_path)),
                      f"{name}: env_file {env_path} is not in the repository")
    check(declared <= used, f"volumes declared but unused: {sorted(declared - used)}")

    # Kafka: single broker plaintext on 9092; the cluster of 3 runs the test suite's settings.
    single = environment(services["kafka"])
    check("PLAINTEXT://localhost:9092" in single.get("KAFKA_ADVERTISED_LISTENERS", ""),
          "kafka: must advertise PLAINTEXT://localhost:9092")
    check(bool(single.get("CLUSTER_ID")), "kafka: KRaft needs CLUSTER_ID")
    check_cluster(services, source)
    pg = environment(services["postgres"])
    check(pg.get("POSTGRES_DB") == "clickstream", "postgres: POSTGRES_DB must be clickstream")
    check(pg.get("POSTGRES_USER") == "studio", "postgres: POSTGRES_USER must be studio")
    redis_command = " ".join(map(str, services["redis"].get("command") or []))
    check("--requirepass" in redis_command, "redis: must run with --requirepass")

    prom = services["prometheus"]
    check("host.docker.internal:host-gateway" in (prom.get("extra_hosts") or []),
          "prometheus: needs extra_hosts host.docker.internal:host-gateway")

    check_secrets(compose, source)
    return compose


# ---------------------------------------------------------------------------------------------
# Prometheus and Grafana

def mount_of(service, container_path):
    """The repository path bind-mounted at container_path in service, or None."""
    for v in service.get("volumes") or []:
        parts = str(v).split(":")
        if len(parts) >= 2 and parts[1].rstrip("/") == container_path.rstrip("/"):
            return parts[0]
    return None


def check_prometheus(compose, source):
    services = compose["services"]
    rel = mount_of(services["prometheus"], "/etc/prometheus/prometheus.yml")
    if not check(rel, "prometheus: deploy/prometheus/prometheus.yml is not mounted"):
        return
    path = os.path.join(source, rel)
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in config.get("scrape_configs") or []}
    print(f"prometheus: jobs {', '.join(sorted(jobs))}")
    app = jobs.get("clickstream-studio")
    if check(app, "prometheus: no clickstream-studio job"):
        targets = [t for sc in app.get("static_configs") or [] for t in sc.get("targets") or []]
        check(targets == ["host.docker.internal:9464"],
              f"prometheus: the app's target must be host.docker.internal:9464, is {targets}")
        check(app.get("metrics_path", "/metrics") == "/metrics", "prometheus: app path /metrics")
    # Every other target is a compose service on a port it serves.
    for name, job in jobs.items():
        for sc in job.get("static_configs") or []:
            for target in sc.get("targets") or []:
                host, _, port = target.partition(":")
                if host in ("host.docker.internal", "localhost"):
                    continue
                check(host in services, f"prometheus job {name}: {host} is no compose service")
    check(any("kafka-exporter:9308" in str(j) for j in jobs.values()),
          "prometheus: Kafka's metrics (kafka-exporter:9308) are not scraped")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "config", path], capture_output=True, text=True)
        check(r.returncode == 0, f"promtool check config: {r.stdout}{r.stderr}")
    else:
        print("prometheus: promtool not found, skipping `promtool check config`")


def check_grafana(compose, source):
    grafana = compose["services"]["grafana"]
    ds_dir = mount_of(grafana, "/etc/grafana/provisioning/datasources")
    db_dir = mount_of(grafana, "/etc/grafana/provisioning/dashboards")
    if not (check(ds_dir, "grafana: datasources provisioning not mounted") and
            check(db_dir, "grafana: dashboards provisioning not mounted")):
        return None, None
    uids = set()
    for name in sorted(os.listdir(os.path.join(source, ds_dir))):
        with open(os.path.join(source, ds_dir, name), encoding="utf-8") as f:
            for ds in (yaml.safe_load(f) or {}).get("datasources") or []:
                if ds.get("type") == "prometheus":
                    check(ds.get("url") == "http://prometheus:9090",
                          f"grafana datasource {ds.get('name')}: url must be http://prometheus:9090")
                    uids.add(ds.get("uid"))
    check(uids, "grafana: no Prometheus datasource provisioned")
    dashboard_files = []
    for name in sorted(os.listdir(os.path.join(source, db_dir))):
        with open(os.path.join(source, db_dir, name), encoding="utf-8") as f:
            for provider in (yaml.safe_load(f) or {}).get("providers") or []:
                container = provider.get("options", {}).get("path", "")
                host_dir = mount_of(grafana, container)
                if check(host_dir, f"grafana provider {provider.get('name')}: {container} is not "
                                   f"mounted"):
                    full = os.path.join(source, host_dir)
                    dashboard_files += [os.path.join(full, n) for n in sorted(os.listdir(full))
                                        if n.endswith(".json")]
    check(dashboard_files, "grafana: no dashboard JSON provisioned")
    home = environment(grafana).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        host_dir = mount_of(grafana, os.path.dirname(home))
        check(host_dir and os.path.isfile(os.path.join(source, host_dir, os.path.basename(home))),
              f"grafana: the home dashboard {home} is not a mounted file")
    return uids, dashboard_files


# ---------------------------------------------------------------------------------------------
# The app's real metrics

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_exposition(text, metrics):
    """Adds name -> label names of every sample in `text` (histogram/summary suffixes too)."""
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if not m:
            continue
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        metrics.setdefault(m.group(1), set()).update(labels)
    # A histogram or summary is queried by its base name's series too (e.g. histogram_quantile
    # over _bucket): the suffixed names above are what is exported; nothing else to add.
    return types


def scrape_app(binary, seconds=8):
    metrics = {}
    with tempfile.TemporaryDirectory(prefix="studio-deploy-") as tmp:
        redis_port = free_port()
        redis_password = secrets.token_hex(16)
        redis_server = shutil.which("redis-server")
        if not check(redis_server, "redis-server not found (scripts/bootstrap.sh installs it): "
                                   "the sink metrics need a Redis"):
            return metrics
        # The password through a config file on stdin, not the command line.
        redis = subprocess.Popen([redis_server, "-"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        redis.stdin.write(f"port {redis_port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
                          f"dir {tmp}\nrequirepass {redis_password}\n")
        redis.stdin.close()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", redis_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        rules = os.path.join(tmp, "rules.json")
        with open(rules, "w", encoding="utf-8") as f:
            # Fires at once while Kafka is up, so that clickstream_alerts has a series.
            json.dump({"version": 1, "rules": [
                {"name": "DeployTestKafkaUp", "signal": "service_up", "comparison": "==",
                 "threshold": 1, "for": 0, "severity": "info"}]}, f)
        port = free_port()
        env = dict(os.environ, REDISCLI_AUTH=redis_password)
        command = [binary, "run", "--headless", "--rps", "2000", "--duration", str(seconds),
                   "--metrics-port", str(port), "--redis", f"redis://127.0.0.1:{redis_port}/0",
                   "--alert-rules", rules, "--report-dir", os.path.join(tmp, "reports")]
        print("app: " + " ".join(command))
        log = open(os.path.join(tmp, "app.log"), "w+", encoding="utf-8")
        app = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        scrapes = 0
        deadline = time.time() + seconds + 40
        try:
            while app.poll() is None and time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                                timeout=2) as r:
                        parse_exposition(r.read().decode("utf-8"), metrics)
                        scrapes += 1
                except OSError:
                    pass
                time.sleep(0.5)
        finally:
            if app.poll() is None:
                app.terminate()
                try:
                    app.wait(10)
                except subprocess.TimeoutExpired:
                    app.kill()
            redis.terminate()
            redis.wait(10)
        log.seek(0)
        output = log.read()
        check(app.returncode == 0, f"the app exited with {app.returncode}:\n{output[-3000:]}")
        check(redis_password not in output, "the app printed the Redis password")
        check(scrapes >= 3, f"only {scrapes} scrapes of /metrics worked:\n{output[-3000:]}")
    print(f"app: {len(metrics)} metric names exported in {scrapes} scrapes")
    return metrics


# ---------------------------------------------------------------------------------------------
# PromQL: the metric names (and labels) an expression uses

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "atan2", "topk", "bottomk", "quantile",
            "count_values"}
LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


def promql_refs(expr):
    """[(metric, {matcher labels})], {labels in by/without/on/...}"""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\[[^\]]*\]", "", s)  # range and subquery durations, $__rate_interval
    grouping = set()
    for m in LABEL_LISTS.finditer(s):
        grouping.update(x.strip() for x in m.group(2).split(",") if x.strip())
    s = LABEL_LISTS.sub(" ", s)
    refs = []
    # Selectors with matchers; {__name__="..."} is not used in our dashboards.
    def selector(m):
        name = m.group(1)
        labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(2)))
        refs.append((name, labels))
        return " "
    s = re.sub(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}", selector, s)
    for m in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)", s):
        name = m.group(1)
        rest = s[m.end():]
        if name.lower() in KEYWORDS or re.match(r"\s*\(", rest):
            continue  # a keyword, a function or an aggregation
        refs.append((name, set()))
    return refs, grouping


def check_dashboard(path, metrics, datasource_uids):
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    panels = []
    def collect(items):
        for p in items:
            panels.append(p)
            collect(p.get("panels") or [])
    collect(dashboard.get("panels") or [])
    check(dashboard.get("uid") and dashboard.get("title"), f"{path}: needs a uid and a title")
    names_used = set()
    queries = 0
    for panel in panels:
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if not expr:
                continue
            queries += 1
            where = f"{os.path.basename(path)}: panel '{panel.get('title')}' query '{expr}'"
            ds = target.get("datasource") or panel.get("datasource") or {}
            if datasource_uids is not None:
                check(isinstance(ds, dict) and ds.get("uid") in datasource_uids,
                      f"{where}: datasource {ds} is not the provisioned Prometheus")
            refs, grouping = promql_refs(expr)
            check(refs, f"{where}: names no metric")
            labels_here = set()
            for name, matchers in refs:
                names_used.add(name)
                if not check(name in metrics, f"{where}: the app does not export '{name}'"):
                    continue
                labels_here |= metrics[name]
                for label in sorted(matchers - metrics[name]):
                    fail(f"{where}: '{name}' has no label '{label}'")
            for label in sorted(grouping - labels_here):
                if labels_here:
                    fail(f"{where}: no metric of it has the label '{label}' it groups by")
            for label in re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}",
                                    target.get("legendFormat") or ""):
                if labels_here and label not in labels_here | grouping:
                    fail(f"{where}: legend uses '{label}', a label none of its metrics has")
    print(f"dashboard {os.path.basename(path)}: {len(panels)} panels, {queries} queries, "
          f"{len(names_used)} metric names, all checked against the app's /metrics")
    check(queries >= 10, f"{path}: only {queries} queries")
    # What the issue asks the dashboard to show.
    for needed in ["clickstream_consumed_events_total", "clickstream_consumer_group_lag_messages",
                   "clickstream_consumer_group_status", "clickstream_service_up",
                   "clickstream_alerts_firing", "clickstream_sink_up"]:
        check(needed in names_used, f"{path}: shows nothing of {needed}")


# ---------------------------------------------------------------------------------------------

def check_profiles(compose, source):
    path = os.path.join(source, "deploy", "clickstream-studio-profiles.json")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)
    for key in keys(data):
        check(not SECRET_WORDS.search(key), f"{path}: has a '{key}' field: passwords never go in it")
    for uri in [data.get("postgresql", {}).get("uri", ""), data.get("redis", {}).get("uri", "")]:
        check(not re.match(r"\w+://[^/@]*:[^/@]*@", uri), f"{path}: {uri} carries a password")
    check(data.get("format") == "clickstream-studio-connections" and data.get("version") == 1,
          f"{path}: not a version 1 connections file")
    published = {p for s in compose["services"].values() for p in host_ports(s)}
    for profile in data.get("kafka") or []:
        for address in profile["bootstrap"].split(","):
            check(int(address.rsplit(":", 1)[1]) in published,
                  f"{path}: {profile['name']}: port of {address} is not published by compose")
        if profile.get("saslMechanism"):
            check(profile.get("username") == "studio",
                  f"{path}: {profile['name']}: the compose cluster's user is studio")
    check(":5432/clickstream" in data["postgresql"]["uri"] and "studio@" in data["postgresql"]["uri"],
          f"{path}: the PostgreSQL URI must be studio@...:5432/clickstream")
    check(":6379" in data["redis"]["uri"], f"{path}: the Redis URI must use port 6379")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="the repository")
    parser.add_argument("--binary", required=True, help="the built clickstream-studio")
    parser.add_argument("--dashboard", help="check this dashboard instead of the provisioned ones")
    parser.add_argument("--seconds", type=int, default=8, help="how long the app runs")
    args = parser.parse_args()
    source = os.path.abspath(args.source)
    started = time.time()

    compose = check_compose(source)
    if "services" not in compose or ERRORS:
        print(f"{len(ERRORS)} problem(s)")
        return 1
    check_prometheus(compose, source)
    uids, dashboards = check_grafana(compose, source)
    check_profiles(compose, source)
    if args.dashboard:
        dashboards = [args.dashboard]
    if not check(os.access(args.binary, os.X_OK), f"{args.binary} is not an executable"):
        return 1
    metrics = scrape_app(args.binary, args.seconds)
    for name in ["clickstream_produced_events_total", "clickstream_sink_up",
                 "clickstream_alerts"]:
        check(name in metrics, f"the app's /metrics never had {name} during the run")
    for path in dashboards or []:
        check_dashboard(path, metrics, uids)

    print(f"{'OK' if not ERRORS else 'FAILED'}: {len(ERRORS)} problem(s) in "
          f"{time.time() - started:.1f} s")
    return 0 if not ERRORS else 1


if __name__ == "__main__":
    sys.exit(main())
