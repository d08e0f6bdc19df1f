import Kube
import Testing

@Suite("Label and field selectors")
struct SelectorTests {
    let labels = ["app": "db", "tier": "data", "replicas": "3"]

    @Test("label selector grammar and matching", arguments: [
        ("", true), ("app=db", true), ("app==db", true), ("app!=db", false), ("app=web", false),
        ("missing!=x", true), ("tier in (data,cache)", true), ("tier notin (data)", false), ("missing notin (a)", true),
        ("app", true), ("!app", false), ("!missing", true), ("app=db,tier=data", true), ("app=db,tier=web", false),
        ("replicas>2", true), ("replicas<3", false), ("  app = db , tier in ( data )  ", true),
        ("example.com/key", false),
    ])
    func labelMatching(_ text: String, _ expected: Bool) throws {
        let selector = try LabelSelectorExpression(parsing: text)
        #expect(selector.matches(labels) == expected, "\(text)")
    }

    @Test("label selector errors", arguments: ["a in (", "a in ()", "=b", "a,,b", "a foo (b)", "a=b c=d", String(repeating: "x", count: 64) + "=1"])
    func labelErrors(_ text: String) {
        #expect(throws: SelectorError.self) { try LabelSelectorExpression(parsing: text) }
    }

    @Test("metav1.LabelSelector becomes the same requirements")
    func structured() {
        let selector = LabelSelectorExpression(LabelSelector(matchLabels: ["app": "db"], matchExpressions: [.init(key: "tier", operator: "In", values: ["data"]), .init(key: "legacy", operator: "DoesNotExist")]))
        #expect(selector.matches(labels))
        #expect(!selector.matches(["app": "db", "tier": "data", "legacy": "yes"]))
        #expect(selector.description == "app=db,tier in (data),!legacy")
    }

    @Test("field selector grammar, escapes and matching")
    func fields() throws {
        let fields = ["metadata.name": "a,b=c", "spec.nodeName": "node-1"]
        let escaped = try FieldSelectorExpression(parsing: #"metadata.name=a\,b\=c"#)
        #expect(escaped.terms == [.init(field: "metadata.name", value: "a,b=c")])
        #expect(escaped.matches { fields[$0] })
        #expect(try FieldSelectorExpression(parsing: "spec.nodeName!=node-2,spec.nodeName==node-1").matches { fields[$0] })
        #expect(try !FieldSelectorExpression(parsing: "spec.nodeName=node-2").matches { fields[$0] })
        #expect(try FieldSelectorExpression(parsing: "status.phase=").matches { fields[$0] })
        #expect(throws: SelectorError.self) { try FieldSelectorExpression(parsing: "nonsense") }
        #expect(FieldSelectorExpression.name("a,b").description == #"metadata.name=a\,b"#)
    }
}
