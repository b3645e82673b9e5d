package store

import "encoding/binary"

// The bbolt schema, all of it. Keys that are numbers are big-endian uint64 so
// that byte order is numeric order.
var (
	bucketMeta      = []byte("meta")       // metaServerID, metaSchema, metaRootFolder -> string
	bucketUsers     = []byte("users")      // itob(user id) -> User JSON
	bucketUserEmail = []byte("user_email") // lower(email) -> itob(user id)
	bucketTokens    = []byte("tokens")     // sha256(plain token) -> Token JSON
	bucketTokenIDs  = []byte("token_ids")  // token public id -> sha256(plain token)
	bucketFolders   = []byte("folders")    // folder id -> Folder JSON
	bucketCanvases  = []byte("canvases")   // canvas id -> Canvas JSON
	bucketWidgets   = []byte("widgets")    // canvas id -> nested bucket: widget id -> Widget JSON
	bucketEvents    = []byte("events")     // canvas id -> nested bucket: itob(seq) -> encoded event envelope; the nested bucket's Sequence() is the canvas head seq
	bucketBlobs     = []byte("blobs")      // sha256 hex -> blobRef JSON (refcount, size)
	bucketCredits   = []byte("credits")    // token public id -> itob(the token's own cap on uncrop credits); absent = no cap
	// bucketUserCredits holds each account's uncrop credits: itob(user id) ->
	// itob(remaining); absent = unlimited. A token's cap (bucketCredits) can
	// only narrow them.
	bucketUserCredits = []byte("user_credits")
	bucketJobs        = []byte("jobs")      // job id -> Job JSON
	bucketJobOrder    = []byte("job_order") // itob(job sequence) -> job id (creation order)
	// bucketOutputs indexes crop-job and crop-operation outputs for access
	// checks: outputKey(sha256 hex, owner user id) -> job id, or "" for the
	// output of a synchronous operation. A job's outputs are referenced by the
	// job (one blob ref per Job.Outputs entry); a synchronous output's index
	// entry holds its one blob ref itself.
	bucketOutputs = []byte("outputs")
	// bucketWidgetSeq holds each widget's version: canvas id -> nested
	// bucket: widget id -> itob(seq of the widget's last event). Absent =
	// version 0 (a widget last written before versions were kept).
	bucketWidgetSeq = []byte("widget_seq")
	// bucketGroups holds user groups: itob(group id) -> Group JSON. The All
	// Users group (AllUsersGroupID) is built in and not stored; membership
	// is kept on each User (User.Groups).
	bucketGroups = []byte("groups")
	// bucketUserTokens holds single-use email tokens (password reset, email
	// confirmation): sha256(plain token) hex -> UserToken JSON.
	bucketUserTokens = []byte("user_tokens")
	// bucketAudit holds the audit events that are not canvas mutations
	// (sign-ins, user, token, group and server changes): itob(seq) ->
	// AuditEvent JSON; the bucket's Sequence() is the last seq. Canvas
	// mutations are read from bucketEvents.
	bucketAudit = []byte("audit")
	// bucketEventAuthors records who wrote each canvas event (Store.WriteAs):
	// canvas id -> nested bucket: itob(seq) -> itob(author user id). Absent
	// = written by the server itself (or before authors were kept). Trimmed
	// and deleted with the canvas's log.
	bucketEventAuthors = []byte("event_authors")
	// bucketDemo holds each demo canvas's saved state (POST
	// /canvases/:id/save): canvas id -> demoState JSON (its widgets). The
	// saved widgets hold one blob ref each, like live widgets.
	bucketDemo = []byte("demo")

	metaServerID   = []byte("server_id")
	metaSchema     = []byte("schema")
	metaRootFolder = []byte("root_folder")
	metaNextUser   = []byte("next_user")  // itob(next user id)
	metaNextGroup  = []byte("next_group") // itob(next group id); absent = FirstGroupID
	// metaServerConfig is the persisted /server-config document (JSON).
	metaServerConfig = []byte("server_config")
	// metaUserCredits marks a store whose per-token credits were carried
	// over to their users (see migrateCredits).
	metaUserCredits = []byte("credits_by_user")
)

var allBuckets = [][]byte{bucketMeta, bucketUsers, bucketUserEmail, bucketTokens, bucketTokenIDs,
	bucketFolders, bucketCanvases, bucketWidgets, bucketEvents, bucketBlobs, bucketCredits, bucketJobs, bucketJobOrder, bucketOutputs, bucketUserCredits, bucketWidgetSeq,
	bucketGroups, bucketUserTokens, bucketAudit, bucketEventAuthors, bucketDemo}

const schemaVersion = "1"

// GuestUserID is the user a request acts as when it has no token and the
// canvas's link permission lets it in.
const GuestUserID uint64 = 100

// FirstUserID is the id of the first real user (the bootstrap admin).
const FirstUserID uint64 = 1000

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// outputKey is sha256 hex, a zero byte, then itob(owner): all owners of one
// output sort together, so a prefix scan of hash+0 finds them.
func outputKey(hash string, owner uint64) []byte {
	k := make([]byte, 0, len(hash)+9)
	k = append(k, hash...)
	k = append(k, 0)
	return append(k, itob(owner)...)
}
