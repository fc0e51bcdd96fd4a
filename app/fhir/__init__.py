"""The directory as HL7 Da Vinci PDex Plan-Net (FHIR R4): resources made from the live directory,
a search view of them, the `/fhir` API and the bulk files a plan publishes."""
