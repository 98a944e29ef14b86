package queryfn

import "time"

// Response is the result of one request, marshalled by the Lambda runtime
// as the function's JSON output. Action is always set; the other fields are
// set only by the actions named in their comments and omitted otherwise.
type Response struct {
	Action Action `json:"action"`

	// User is CURRENT_USER(), e.g. "app_user@%" (whoami).
	User string `json:"user,omitempty"`
	// TLSCipher is the session's Ssl_cipher, e.g. "TLS_AES_128_GCM_SHA256";
	// empty, and so omitted, if the session is not encrypted (whoami).
	TLSCipher string `json:"tls_cipher,omitempty"`
	// ServerVersion is VERSION() (whoami).
	ServerVersion string `json:"server_version,omitempty"`
	// Endpoint is the endpoint that answered, "writer" or "reader"
	// (whoami; see NewWithReader).
	Endpoint string `json:"endpoint,omitempty"`

	// Items are the listed items, possibly none (list_items).
	Items []Item `json:"items,omitzero"`
	// Item is the item found (get_item); nil if there is none.
	Item *Item `json:"item,omitzero"`
	// Found reports whether get_item found the item (get_item).
	Found *bool `json:"found,omitzero"`
	// Count is the number of items (count_items).
	Count *int64 `json:"count,omitzero"`
	// ID is the id of the inserted item (add_item).
	ID int64 `json:"id,omitzero"`
	// Affected is the number of rows changed (add_item, delete_item).
	Affected *int64 `json:"affected,omitzero"`
}

// Item is one row of the items table.
type Item struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}
