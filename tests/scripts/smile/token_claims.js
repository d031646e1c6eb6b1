// onTokenGenerating: custom claims of each type, launch context, scope changes.
function onTokenGenerating(theUserSession, theAuthorizationRequestDetails) {
   Log.info('Generating token for launch: ' + theAuthorizationRequestDetails.launch);
   theAuthorizationRequestDetails.addAccessTokenClaim('claimName', 'claimValue');
   theAuthorizationRequestDetails.addAccessTokenClaim('numericClaimName', 123);
   theAuthorizationRequestDetails.addAccessTokenClaim('objectClaim', {
      someArray: [1, 2, 3.3, null, true],
      someNestedObject: { family: 'Simpson', given: 'Homer' }
   });
   if (theUserSession !== null) {
      theUserSession.addLaunchResourceId('patient', '555');
      theUserSession.addLaunchContextParameter('smart_style_url', 'http://acme.org/styles/smart_v1.json');
      theUserSession.removeApprovedScope('patient/*.read');
      theUserSession.addApprovedScope('patient/Observation.read');
      Log.info('client ' + theUserSession.getOidcClientId() + ' audience ' + theAuthorizationRequestDetails.getAudience());
   }
}
