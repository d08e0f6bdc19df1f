import Foundation
import Kube
import TestSupport
import Testing

@testable import rebound

/// deploy/components/monitoring: the PrometheusRule passes `promtool check rules`, its alerts
/// fire when they should (`promtool test rules`), and every metric the rules and the Grafana
/// dashboard use is one a running `rebound serve` exports.
@Suite("Monitoring: alerts and dashboard", .serialized, .timeLimit(.minutes(2)))
struct MonitoringTests {
    static let directory = DeployManifestTests.root + "/deploy/components/monitoring"

    static func ruleSpec() throws -> JSONValue {
        let text = try String(contentsOfFile: directory + "/prometheusrule.yaml", encoding: .utf8)
        let rule = try #require(try JSONValue.documents(fromYAML: text).first { $0["kind"] == "PrometheusRule" })
        return try #require(rule["spec"])
    }

    /// Every expression: the rules' and the dashboard's panels'.
    static func expressions() throws -> [String] {
        var expressions: [String] = []
        for group in try ruleSpec()["groups"]?.arrayValue ?? [] {
            for rule in group["rules"]?.arrayValue ?? [] { expressions.append(rule["expr"]?.stringValue ?? "") }
        }
        let dashboard = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/grafana-dashboard.json"))))
        for panel in dashboard["panels"]?.arrayValue ?? [] {
            for target in panel["targets"]?.arrayValue ?? [] { expressions.append(target["expr"]?.stringValue ?? "") }
        }
        return expressions
    }

    /// The `rebound_…` series names an expression reads.
    static func metricNames(in expression: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        for character in expression + " " {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
            } else {
                if current.hasPrefix("rebound_") { names.insert(current) }
                current = ""
            }
        }
        return names
    }

    @Test("the dashboard and the kustomize component hold together: every panel has a query, the component lists its files")
    func shapes() throws {
        let expressions = try Self.expressions()
        #expect(expressions.count >= 25)
        #expect(expressions.allSatisfy { !$0.isEmpty })
        let component = try String(contentsOfFile: Self.directory + "/kustomization.yaml", encoding: .utf8)
        for file in ["servicemonitor.yaml", "prometheusrule.yaml", "grafana-dashboard.json"] { #expect(component.contains(file)) }
        let alerts = (try Self.ruleSpec()["groups"]?.arrayValue ?? []).flatMap { $0["rules"]?.arrayValue ?? [] }
        #expect(alerts.allSatisfy { $0["annotations"]?["summary"] != nil && $0["labels"]?["severity"] != nil })
        // Each alert is explained for operators.
        let operations = try String(contentsOfFile: DeployManifestTests.root + "/docs/operations.md", encoding: .utf8)
        for alert in alerts { #expect(operations.contains(alert["alert"]?.stringValue ?? "?"), "docs/operations.md does not explain \(alert["alert"]?.stringValue ?? "")") }
    }

    @Test("promtool accepts the rules, and each alert fires exactly when its unit test says", .requiresTools("promtool"))
    func promtool() async throws {
        let promtool = try tool("promtool", package: "prometheus")
        try await withTemporaryDirectory { work in
            var spec = try Self.ruleSpec()
            try spec.yamlText.write(toFile: work + "/rules.yaml", atomically: true, encoding: .utf8)
            let checked = try await runCommand(promtool, ["check", "rules", work + "/rules.yaml"])
            #expect(checked.status == 0, "\(checked.output)")
            #expect(checked.output.contains("SUCCESS: 10 rules found"), "\(checked.output)")
            // The unit tests check when alerts fire (expressions and `for`), not the wording of
            // their annotations, which promtool would otherwise compare rendered.
            var groups: [JSONValue] = []
            for group in spec["groups"]?.arrayValue ?? [] {
                var group = group
                group["rules"] = .array((group["rules"]?.arrayValue ?? []).map { rule in
                    var rule = rule
                    rule["annotations"] = nil
                    return rule
                })
                groups.append(group)
            }
            spec["groups"] = .array(groups)
            try spec.yamlText.write(toFile: work + "/bare-rules.yaml", atomically: true, encoding: .utf8)
            try Self.alertTests.write(toFile: work + "/alerts-test.yaml", atomically: true, encoding: .utf8)
            let tested = try await runCommand(promtool, ["test", "rules", work + "/alerts-test.yaml"])
            #expect(tested.status == 0, "\(tested.output)")
            #expect(tested.output.contains("SUCCESS"), "\(tested.output)")
        }
    }

    /// promtool unit tests: one series history per alert, firing and quiet cases.
    static let alertTests = """
        rule_files: [bare-rules.yaml]
        evaluation_interval: 1m
        tests:
        - interval: 1m
          input_series:
          - series: 'rebound_failover_migrations_total{result="failure", pod="rebound-0"}'
            values: '0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
          - series: 'rebound_failover_pending_pods{state="retrying", pod="rebound-0"}'
            values: '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
          - series: 'rebound_failover_paused{guard="partition", pod="rebound-0"}'
            values: '0 0 1 1 1 1 1 1 1 1'
          - series: 'rebound_failover_leader{lease="failover", pod="rebound-0"}'
            values: '1 1 1 0 0 0 0 0 0 0 0 0'
          - series: 'rebound_failover_leader{lease="failover", pod="rebound-1"}'
            values: '0 0 0 0 0 0 0 0 0 0 0 0'
          alert_rule_test:
          - eval_time: 1m
            alertname: ReboundMigrationFailing
          - eval_time: 5m
            alertname: ReboundMigrationFailing
            exp_alerts: [{exp_labels: {severity: warning}}]
          - eval_time: 24m
            alertname: ReboundMigrationFailing
          - eval_time: 10m
            alertname: ReboundMigrationStuck
          - eval_time: 17m
            alertname: ReboundMigrationStuck
            exp_alerts: [{exp_labels: {severity: critical}}]
          - eval_time: 3m
            alertname: ReboundPartitionGuardEngaged
          - eval_time: 5m
            alertname: ReboundPartitionGuardEngaged
            exp_alerts: [{exp_labels: {severity: critical}}]
          - eval_time: 6m
            alertname: ReboundNoLeader
          - eval_time: 9m
            alertname: ReboundNoLeader
            exp_alerts: [{exp_labels: {severity: critical}}]
        - interval: 1m
          input_series:
          - series: 'rebound_extender_requests_total{verb="filter", result="ok"}'
            values: '0+60x30'
          - series: 'rebound_extender_requests_total{verb="filter", result="error"}'
            values: '0+30x30'
          - series: 'rebound_extender_requests_total{verb="bind", result="ok"}'
            values: '0+60x30'
          - series: 'rebound_extender_requests_total{verb="bind", result="error"}'
            values: '0+0x30'
          - series: 'rebound_extender_request_seconds_bucket{verb="filter", le="0.1"}'
            values: '0+10x30'
          - series: 'rebound_extender_request_seconds_bucket{verb="filter", le="1"}'
            values: '0+100x30'
          - series: 'rebound_extender_request_seconds_bucket{verb="filter", le="+Inf"}'
            values: '0+100x30'
          - series: 'rebound_webhook_requests_total{result="patched"}'
            values: '0+100x30'
          - series: 'rebound_webhook_requests_total{result="invalid"}'
            values: '0+1x30'
          - series: 'rebound_webhook_degraded_total{reason="timeout"}'
            values: '0 0 0 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2'
          alert_rule_test:
          - eval_time: 20m
            alertname: ReboundExtenderErrors
            exp_alerts: [{exp_labels: {severity: warning, verb: filter}}]
          - eval_time: 20m
            alertname: ReboundExtenderSlow
            exp_alerts: [{exp_labels: {severity: warning, verb: filter}}]
          - eval_time: 20m
            alertname: ReboundWebhookRefusing
          - eval_time: 5m
            alertname: ReboundWebhookDegraded
            exp_alerts: [{exp_labels: {severity: warning}}]
          - eval_time: 19m
            alertname: ReboundWebhookDegraded
        """

    @Test("every metric the rules and the dashboard read is in a running rebound serve's /metrics")
    func metricsExist() async throws {
        let used = try Self.expressions().reduce(into: Set<String>()) { $0.formUnion(Self.metricNames(in: $1)) }
        #expect(used.count >= 20)
        try await withSim { sim, client in
            try await withTemporaryDirectory { directory in
                let kubeconfig = directory + "/kubeconfig"
                try await sim.server.kubeconfig(token: nil, caPEM: nil).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                _ = try await client.create(Namespace(metadata: ObjectMeta(name: "rebound-system")))
                let healthPort = try freePort()
                let serve = try ChildProcess(ReboundBinary.path, [
                    "serve", "--kubeconfig", kubeconfig, "--set", "webhook.address=127.0.0.1", "--set", "webhook.port=\(try freePort())",
                    "--set", "webhook.tls.certFile=\(TestCertificates.path("tls.crt"))", "--set", "webhook.tls.keyFile=\(TestCertificates.path("tls.key"))",
                    "--set", "webhook.tls.clientCAFile=",
                    "--set", "extender.address=127.0.0.1", "--set", "extender.port=\(try freePort())",
                    "--set", "health.address=127.0.0.1", "--set", "health.port=\(healthPort)", "--set", "log.level=info",
                ])
                #expect(await serve.waitForLine(timeout: .seconds(60)) { $0.contains("became leader") } != nil, "\(serve.printed.suffix(20))")
                let metrics = await httpGet("http://127.0.0.1:\(healthPort)/metrics")
                await serve.stop()
                let text = try #require(metrics?.body)
                let exported = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
                    line.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init)
                })
                let missing = used.subtracting(exported).sorted()
                #expect(missing.isEmpty, "used by the rules or the dashboard but not exported: \(missing)")
            }
        }
    }
}
