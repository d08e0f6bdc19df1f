import Foundation
import Kube
import Testing

@Suite("JSONValue: lossless parse and serialise")
struct JSONValueTests {
    @Test("round-trips documents byte for byte apart from whitespace", arguments: [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"{"n":-0.5e-3,"big":123456789012345678901234567890,"s":"tab\tquote\"back\\slash\u0001"}"#,
        #"[]"#, #"{}"#, #""only a string""#, "12", "-0", "1E+10",
        #"{"unicode":"é😀","escaped":"\u00e9\ud83d\ude00"}"#,
    ])
    func roundTrip(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        let again = try JSONValue(parsing: value.serialized())
        #expect(again == value)
    }

    @Test("keeps member order and number text")
    func keepsOrderAndNumbers() throws {
        let value = try JSONValue(parsing: #"{"z":1.50,"a":2,"m":{"y":1e3,"b":0}}"#)
        #expect(value.jsonString == #"{"z":1.50,"a":2,"m":{"y":1e3,"b":0}}"#)
    }

    @Test("decodes escapes and surrogate pairs")
    func escapes() throws {
        let value = try JSONValue(parsing: #""a\/b\n\u00e9\ud83d\ude00""#)
        #expect(value.stringValue == "a/b\né😀")
        #expect(JSONValue.string("line\nbreak \"q\" \u{1}").jsonString == #""line\nbreak \"q\" \u0001""#)
    }

    @Test("rejects malformed input with the offset", arguments: [
        ("{", 1), ("{\"a\":}", 5), ("[1,]", 3), ("tru", 0), ("01", 1), ("1.", 2), ("\"abc", 4), ("{\"a\" 1}", 5), ("[1] x", 4), ("\"\u{1}\"", 1),
    ])
    func rejects(_ text: String, _ offset: Int) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test("refuses nesting deep enough to exhaust the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONError.self) { try JSONValue(parsing: deep) }
        #expect(error?.message.contains("nesting deeper than") == true)
    }

    @Test("bridges to Codable types and back")
    func codableBridge() throws {
        let pod = Pod(metadata: ObjectMeta(name: "x", namespace: "y", labels: ["a": "b"]), spec: PodSpec(containers: [Container(name: "c")]))
        let value = try JSONValue(encoding: pod)
        #expect(value["metadata"]?["labels"]?["a"]?.stringValue == "b")
        #expect(try value.decode(as: Pod.self) == pod)
    }

    @Test("reads multi-document YAML with Kubernetes typing")
    func yaml() throws {
        let documents = try JSONValue.documents(fromYAML: """
            a: "188"
            b: 188
            c: true
            d: "true"
            e: 1.5
            f: null
            g: [x, 2]
            ---
            ---
            kind: Second
            """)
        #expect(documents.count == 2)
        #expect(documents[0]["a"] == .string("188"))
        #expect(documents[0]["b"] == .number("188"))
        #expect(documents[0]["c"] == .bool(true))
        #expect(documents[0]["d"] == .string("true"))
        #expect(documents[0]["e"] == .number("1.5"))
        #expect(documents[0]["f"] == .null)
        #expect(documents[0]["g"] == .array([.string("x"), .number("2")]))
        #expect(documents[1]["kind"] == .string("Second"))
    }

    @Test("splits a watch stream into frames whatever the chunk boundaries")
    func frameSplitter() throws {
        let stream = #"{"type":"ADDED","object":{"s":"}{\"]"}}"# + "\n" + #"{"type":"DELETED","object":{}}"# + "  \n" + #"{"type":"BOOKMARK","object":{"a":[1,{"b":"\\"}]}}"#
        let bytes = Array(stream.utf8)
        for chunkSize in [1, 2, 3, 7, 64, bytes.count] {
            var splitter = JSONFrameSplitter()
            var frames: [String] = []
            var offset = 0
            while offset < bytes.count {
                splitter.append(bytes[offset..<min(offset + chunkSize, bytes.count)])
                offset += chunkSize
                while let frame = try splitter.nextFrame() { frames.append(String(decoding: frame, as: UTF8.self)) }
            }
            #expect(frames.count == 3, "chunk size \(chunkSize)")
            #expect(try frames.map { try JSONValue(parsing: $0)["type"]?.stringValue } == ["ADDED", "DELETED", "BOOKMARK"])
        }
    }
}

@Suite("JSON Patch (RFC 6902) and Merge Patch (RFC 7386)")
struct JSONPatchTests {
    func apply(_ document: String, _ patch: String) throws -> JSONValue {
        try JSONPatch.apply(JSONPatch.operations(from: JSONValue(parsing: patch)), to: JSONValue(parsing: document))
    }

    // Examples from RFC 6902, appendix A.
    @Test("RFC 6902 appendix A examples", arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"foo":"bar","baz":"qux"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
        (#"{"foo":null}"#, #"[{"op":"add","path":"/foo","value":1}]"#, #"{"foo":1}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10},{"op":"copy","from":"/~1","path":"/x"}]"#, #"{"/":9,"~1":10,"x":9}"#),
        (#"{"a":{"b/c":1}}"#, #"[{"op":"replace","path":"/a/b~1c","value":2}]"#, #"{"a":{"b/c":2}}"#),
    ])
    func rfcExamples(_ document: String, _ patch: String, _ expected: String) throws {
        #expect(try apply(document, patch) == JSONValue(parsing: expected))
    }

    @Test("failing operations leave an error, never a half-applied document", arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#),
        (#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#),
        (#"{"a":[1]}"#, #"[{"op":"remove","path":"/a/5"}]"#),
        (#"{"a":1}"#, #"[{"op":"frobnicate","path":"/a"}]"#),
        (#"{"a":1}"#, #"[{"op":"replace","path":"a","value":2}]"#),
        (#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#),
        (#"{"a":1}"#, #"[{"op":"add","path":"/~2","value":2}]"#),
    ])
    func failures(_ document: String, _ patch: String) {
        #expect(throws: JSONPatchError.self) { try apply(document, patch) }
    }

    @Test("test compares numbers by value")
    func numericTest() throws {
        #expect(try apply(#"{"a":1.0}"#, #"[{"op":"test","path":"/a","value":1}]"#) == JSONValue(parsing: #"{"a":1.0}"#))
    }

    @Test("pointers escape ~ and / and parse back")
    func pointers() throws {
        let pointer = JSONPointer(tokens: ["metadata", "annotations", "carina.storage.io/allow~x"])
        #expect(pointer.description == "/metadata/annotations/carina.storage.io~1allow~0x")
        #expect(try JSONPointer(parsing: pointer.description) == pointer)
        #expect(throws: JSONPatchError.self) { try JSONPointer(parsing: "no-slash") }
    }

    // Examples from RFC 7386, section 3.
    @Test("RFC 7386 examples", arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        ("{}", #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergeExamples(_ target: String, _ patch: String, _ expected: String) throws {
        #expect(JSONPatch.merge(try JSONValue(parsing: patch), into: try JSONValue(parsing: target)) == (try JSONValue(parsing: expected)))
    }

    @Test("a computed merge patch turns the original into the modified document")
    func mergeDiff() throws {
        let original = try JSONValue(parsing: #"{"a":1,"b":{"c":2,"d":3},"e":[1]}"#)
        let modified = try JSONValue(parsing: #"{"a":1,"b":{"c":5},"e":[2],"f":"new"}"#)
        let patch = try #require(JSONPatch.mergePatch(from: original, to: modified))
        #expect(JSONPatch.merge(patch, into: original) == modified)
        #expect(JSONPatch.mergePatch(from: original, to: original) == nil)
    }

    @Test("documents write as YAML that reads back: quoting where YAML would retype a string, order kept, 500 levels deep")
    func yamlOutput() throws {
        let value = try JSONValue(parsing: Array(#"""
            {"b":"true","a":"188","c":188,"d":"plain-text/ok","e":"with: colon","f":"","g":null,"h":[1,"x",{"k":false}],"i":"naïve","j":"0x1F","k":"~","l":"line\nbreak"}
            """#.utf8))
        let text = value.yamlText
        #expect(text.hasPrefix("b: \"true\"\na: \"188\"\nc: 188\nd: plain-text/ok\n"), "\(text)")
        #expect(try JSONValue.documents(fromYAML: text) == [value])
        let deep = try JSONValue(parsing: Array((String(repeating: "[", count: 500) + "1" + String(repeating: "]", count: 500)).utf8))
        #expect(try JSONValue.documents(fromYAML: deep.yamlText) == [deep])
    }
}
