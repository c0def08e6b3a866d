{{/* The chart name. */}}
{{- define "jco.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: the release name, with the chart name unless it already contains it. */}}
{{- define "jco.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "jco.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "jco.labels" -}}
helm.sh/chart: {{ include "jco.chart" . }}
{{ include "jco.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jira-cloud-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The stable labels the Deployment selects its pods by. */}}
{{- define "jco.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jco.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "jco.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jco.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "true" when leader election is on: as set, or when more than one replica runs. */}}
{{- define "jco.leaderElection" -}}
{{- if kindIs "bool" .Values.leaderElection.enabled }}
{{- .Values.leaderElection.enabled }}
{{- else }}
{{- gt (int .Values.replicaCount) 1 }}
{{- end }}
{{- end }}

{{/* Name of the leader Lease. */}}
{{- define "jco.leaseName" -}}
{{- default (include "jco.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The image reference: by digest when one is given, else by tag (the appVersion by default). */}}
{{- define "jco.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The RBAC rules the operator needs in each watched namespace (or cluster-wide), and nothing more:
- JiraConnections: read and watch; status written by server-side apply.
- JiraActions: read and watch; status written by server-side apply; delete after ttlSecondsAfterFinished.
- JiraUsers: the inventory the operator owns (server-side apply, deletes of departed users, status).
- Secrets: read the credentials a connection references; watched by metadata to notice rotations.
- Events: published on transitions (events.k8s.io, create and patch for series).
*/}}
{{- define "jco.rules" -}}
- apiGroups: ["jiracloud.io"]
  resources: ["jiraconnections"]
  verbs: ["get", "list", "watch"]
# License policies create the JiraActions of their runs.
- apiGroups: ["jiracloud.io"]
  resources: ["jiraactions"]
  verbs: ["get", "list", "watch", "create", "delete"]
# A license policy's finalizer is set and removed with a patch.
- apiGroups: ["jiracloud.io"]
  resources: ["jiralicensepolicies"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["jiracloud.io"]
  resources: ["jiraconnections/status", "jiraactions/status", "jiralicensepolicies/status"]
  verbs: ["get", "patch"]
- apiGroups: ["jiracloud.io"]
  resources: ["jiraconnections/finalizers", "jiralicensepolicies/finalizers"]
  verbs: ["update"]
- apiGroups: ["jiracloud.io"]
  resources: ["jirausers"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
{{- if .Values.watchNamespaces }}
# Secret changes are watched in the watched namespaces and take effect at once.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
{{- else }}
# Cluster-wide: Secrets are read one by one, never listed or watched; a connection re-reads its Secrets every
# credentialsRecheckInterval.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end }}
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# A connection's incremental-sync cache: ConfigMaps named after it, read and written one by one, never listed.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "patch", "delete"]
{{- end }}

{{/* "configMap" or "secret" when a CA bundle is mounted, else empty; fails when both are set. */}}
{{- define "jco.caBundleSource" -}}
{{- if and .Values.caBundle.configMapName .Values.caBundle.secretName }}
{{- fail "caBundle: set configMapName or secretName, not both" }}
{{- else if .Values.caBundle.configMapName }}configMap
{{- else if .Values.caBundle.secretName }}secret
{{- end }}
{{- end }}
