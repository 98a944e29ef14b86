package dbuser

import (
	"log/slog"
	"strings"
)

// Request types CloudFormation sends.
const (
	RequestCreate = "Create"
	RequestUpdate = "Update"
	RequestDelete = "Delete"
)

// Event is the request the CDK Provider framework passes to the onEvent
// handler: the CloudFormation custom-resource request, unchanged.
type Event struct {
	RequestType       string `json:"RequestType"`
	ServiceToken      string `json:"ServiceToken"`
	ResponseURL       string `json:"ResponseURL"` // pre-signed S3 URL: never log it
	StackID           string `json:"StackId"`
	RequestID         string `json:"RequestId"`
	LogicalResourceID string `json:"LogicalResourceId"`
	// PhysicalResourceID is empty on Create.
	PhysicalResourceID string `json:"PhysicalResourceId,omitempty"`
	ResourceType       string `json:"ResourceType"`
	// ResourceProperties are the resource's properties; see ParseProperties.
	ResourceProperties map[string]any `json:"ResourceProperties"`
	// OldResourceProperties are the previous properties; Update only.
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// LogValue identifies the request in logs. It leaves out the ResponseURL,
// which grants write access to the response object, and the properties.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("requestType", e.RequestType),
		slog.String("requestId", e.RequestID),
		slog.String("stackId", e.StackID),
		slog.String("logicalResourceId", e.LogicalResourceID),
		slog.String("physicalResourceId", e.PhysicalResourceID),
	)
}

// Response is what the onEvent handler returns to the Provider framework,
// which forwards it to CloudFormation.
type Response struct {
	PhysicalResourceID string `json:"PhysicalResourceId"`
	// Data become the resource's attributes (Fn::GetAtt): UserName and
	// DatabaseName after Create and Update.
	Data map[string]string `json:"Data,omitempty"`
}

// physicalIDPrefix marks resources this handler created.
const physicalIDPrefix = "dbuser:"

// PhysicalID returns the physical resource id for user: "dbuser:" + user.
func PhysicalID(user string) string { return physicalIDPrefix + user }

// userFromPhysicalID returns the user name in a physical id made by
// PhysicalID, or false for any other id, such as the one the Provider
// framework assigns when a Create fails.
func userFromPhysicalID(id string) (string, bool) {
	return strings.CutPrefix(id, physicalIDPrefix)
}
