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
)

// permissions is the one table that decides what each role may do.
var permissions = map[Role][]Permission{
	RoleOwner:        {PermLedgerRead},
	RoleAdmin:        {PermLedgerRead},
	RolePolicyAuthor: {},
	RoleApprover:     {},
	RoleOperator:     {},
	RoleAuditor:      {PermLedgerRead},
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
