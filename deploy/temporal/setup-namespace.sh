#!/bin/sh
# One-shot, after the server is healthy: the namespace and the search attributes that the
# Onboarding workflow writes (OnboardingStage, OnboardingOutcome, UnicoProcessId: keywords,
# no personal data). Safe to run again.
set -eu

until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
  || temporal operator namespace create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS"
for name in OnboardingStage OnboardingOutcome UnicoProcessId; do
  temporal operator search-attribute create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
    --name "$name" --type Keyword || echo "search attribute $name exists"
done
