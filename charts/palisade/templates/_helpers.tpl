{{/* Labels of every object; the argument is the component. */}}
{{- define "palisade.labels" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* The labels pods are selected by. */}}
{{- define "palisade.selector" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/component: {{ . }}
{{- end -}}

{{/* Metadata in the chart's namespace. */}}
{{- define "palisade.meta" -}}
name: {{ .name }}
namespace: {{ .root.Values.namespace }}
labels:
  {{- include "palisade.labels" . | nindent 2 }}
{{- end -}}

{{/* The pinned image reference. */}}
{{- define "palisade.image" -}}
{{- $digest := required "image.digest is required: deploy the image pinned by digest (sha256:...)" .Values.image.digest -}}
{{- .Values.image.repository -}}{{- if .Values.image.tag -}}:{{ .Values.image.tag }}{{- end -}}@{{ $digest }}
{{- end -}}

{{/* Pod-level hardening. */}}
{{- define "palisade.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level hardening. */}}
{{- define "palisade.containerSecurity" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The namespace variable every container gets. */}}
{{- define "palisade.env" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{/* An explicit, hour-long API token where a component needs one. */}}
{{- define "palisade.tokenMount" -}}
- name: api-token
  mountPath: /var/run/secrets/kubernetes.io/serviceaccount
  readOnly: true
{{- end -}}
{{- define "palisade.tokenVolume" -}}
- name: api-token
  projected:
    defaultMode: 288
    sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3600}
      - configMap:
          name: kube-root-ca.crt
          items: [{key: ca.crt, path: ca.crt}]
      - downwardAPI:
          items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]
{{- end -}}

{{/* The webhook hook fields shared by both configurations; .path and .policy. */}}
{{- define "palisade.hook" -}}
admissionReviewVersions: [v1]
sideEffects: None
timeoutSeconds: 5
failurePolicy: {{ .policy }}
matchPolicy: Equivalent
clientConfig:
  service:
    name: palisade
    namespace: {{ .root.Values.namespace }}
    path: {{ .path }}
    port: 443
  {{- if .ca }}
  caBundle: {{ .ca }}
  {{- end }}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ concat (list .root.Values.namespace "kube-system") .root.Values.excludedNamespaces | toJson }}
matchConditions:
  - name: not-palisade-itself
    expression: {{ printf "request.userInfo.username != 'system:serviceaccount:%s:palisade'" .root.Values.namespace | quote }}
{{- end -}}
