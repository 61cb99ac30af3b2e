package access

// Role is the one role of a key.
type Role string

// Roles, from the installation's owner down to an agent.
const (
	RoleOwner        Role = "owner"
	RoleAdmin        Role = "admin"
	RolePolicyAuthor Role = "policy_author"
	RoleApprover     Role = "approver"
	RoleOperator     Role = "operator"
	RoleAuditor      Role = "auditor"
	RoleAgent        Role = "agent"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	_, ok := permissions[r]
	return ok
}

// Permission is one thing a route needs.
type Permission string

// Permissions. Each route names exactly one.
const (
	// PermLedgerRead reads the log: checkpoints, entries, proofs, verification.
	PermLedgerRead Permission = "ledger.read"
	// PermEvaluate asks for decisions (for any principal until agent keys
	// are bound to principals).
	PermEvaluate Permission = "evaluate"
	// PermPolicyRead reads policy versions and the active policy.
	PermPolicyRead Permission = "policy.read"
	// PermPolicyWrite pushes and activates policy versions.
	PermPolicyWrite Permission = "policy.write"
)

// permissions is the one table that decides what each role may do.
var permissions = map[Role][]Permission{
	RoleOwner:        {PermLedgerRead, PermEvaluate, PermPolicyRead, PermPolicyWrite},
	RoleAdmin:        {PermLedgerRead, PermEvaluate, PermPolicyRead, PermPolicyWrite},
	RolePolicyAuthor: {PermPolicyRead, PermPolicyWrite},
	RoleApprover:     {},
	RoleOperator:     {},
	RoleAuditor:      {PermLedgerRead, PermPolicyRead},
	RoleAgent:        {},
}

// Allows reports whether role r has permission p.
func (r Role) Allows(p Permission) bool {
	for _, q := range permissions[r] {
		if q == p {
			return true
		}
	}
	return false
}
