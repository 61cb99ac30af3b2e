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

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RolePolicyAuthor, RoleApprover, RoleOperator, RoleAuditor, RoleAgent}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	_, ok := permissions[r]
	return ok
}

// rank orders roles by power: owner above admin above the rest, which are
// peers (none holds another's permissions).
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleAdmin:
		return 2
	}
	return 1
}

// Permission is one thing a route needs.
type Permission string

// Permissions. Each route names exactly one.
const (
	// PermLedgerRead reads the log: checkpoints, entries, proofs, verification.
	PermLedgerRead Permission = "ledger.read"
	// PermEvaluate asks for decisions, reports outcomes and scans; an
	// agent key only for the principals it is bound to.
	PermEvaluate Permission = "evaluate"
	// PermReceiptsRead reads receipts; an agent key only its own.
	PermReceiptsRead Permission = "receipts.read"
	// PermPolicyRead reads policy versions and the active policy.
	PermPolicyRead Permission = "policy.read"
	// PermPolicyWrite pushes and activates policy versions, and sets the
	// candidate.
	PermPolicyWrite Permission = "policy.write"
	// PermPolicyApprove approves policy versions (not one's own).
	PermPolicyApprove Permission = "policy.approve"
	// PermKeysRead lists keys and reads the access review.
	PermKeysRead Permission = "keys.read"
	// PermKeysWrite creates, changes and revokes keys, and signs the
	// access review.
	PermKeysWrite Permission = "keys.write"
	// PermSettingsRead reads the tenant's settings.
	PermSettingsRead Permission = "settings.read"
	// PermSettingsWrite changes the tenant's settings.
	PermSettingsWrite Permission = "settings.write"
	// PermTenants creates, lists and suspends tenants (installation owner).
	PermTenants Permission = "tenants"
	// PermApprovalsRead reads approval requests; an agent key only its
	// own principals', and only it receives their authorization.
	PermApprovalsRead Permission = "approvals.read"
	// PermApprovalsVote approves and rejects approval requests (who may
	// vote on which request, the approval model decides).
	PermApprovalsVote Permission = "approvals.vote"
	// PermControlsRead lists kill switches; PermControlsWrite sets and
	// clears them.
	PermControlsRead  Permission = "controls.read"
	PermControlsWrite Permission = "controls.write"
	// PermMonitorRead reads what the monitor sees (agents, series) and
	// the alerts and incidents; PermMonitorWrite acknowledges and
	// resolves alerts and keeps incidents.
	PermMonitorRead  Permission = "monitor.read"
	PermMonitorWrite Permission = "monitor.write"
)

// permissions is the one table that decides what each role may do. An
// owner key acts as the admin of any tenant (with ?tenant=) and alone
// manages tenants.
var permissions = map[Role][]Permission{
	RoleOwner: {PermLedgerRead, PermEvaluate, PermReceiptsRead, PermPolicyRead, PermPolicyWrite, PermPolicyApprove,
		PermKeysRead, PermKeysWrite, PermSettingsRead, PermSettingsWrite, PermTenants, PermApprovalsRead, PermApprovalsVote,
		PermControlsRead, PermControlsWrite, PermMonitorRead, PermMonitorWrite},
	RoleAdmin: {PermLedgerRead, PermEvaluate, PermReceiptsRead, PermPolicyRead, PermPolicyWrite, PermPolicyApprove,
		PermKeysRead, PermKeysWrite, PermSettingsRead, PermSettingsWrite, PermApprovalsRead, PermApprovalsVote,
		PermControlsRead, PermControlsWrite, PermMonitorRead, PermMonitorWrite},
	RolePolicyAuthor: {PermPolicyRead, PermPolicyWrite, PermPolicyApprove},
	RoleApprover:     {PermPolicyRead, PermApprovalsRead, PermApprovalsVote},
	RoleOperator:     {PermPolicyRead, PermControlsRead, PermControlsWrite, PermMonitorRead, PermMonitorWrite},
	RoleAuditor: {PermLedgerRead, PermReceiptsRead, PermPolicyRead, PermKeysRead, PermSettingsRead, PermApprovalsRead,
		PermControlsRead, PermMonitorRead},
	RoleAgent: {PermEvaluate, PermReceiptsRead, PermApprovalsRead},
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

// CanGrant reports whether a key of role actor may give role target to a
// key: only key managers may, and never a role above their own.
func CanGrant(actor, target Role) bool {
	return actor.Allows(PermKeysWrite) && target.Valid() && target.rank() <= actor.rank()
}
