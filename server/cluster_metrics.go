package server

// ClusterHubMetrics counts into m what keeps the nodes of a cluster
// consistent (filled events, head-check repairs and errors, failed broker
// publishes; see core.Metrics.ClusterHubHooks). logErr, if not nil, also
// sees each error.
func ClusterHubMetrics(m *Metrics, logErr func(what string, err error)) HubOption {
	return m.ClusterHubHooks(logErr)
}
