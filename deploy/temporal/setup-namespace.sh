#!/bin/sh
# One-shot, after the server is healthy: the namespace and the search attributes that the
# Onboarding workflow writes (no personal data in any). Safe to run again.
set -eu

until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
  || temporal operator namespace create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS"
for attribute in OnboardingStage=Keyword OnboardingOutcome=Keyword UnicoProcessId=Keyword \
    ReviewDeadline=Datetime; do
  temporal operator search-attribute create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
    --name "${attribute%=*}" --type "${attribute#*=}" || echo "search attribute $attribute exists"
done
