// onAuthenticateSuccess in the style of the reference's examples: permissions with
// arguments, user data, scope claims given as a string or an array, fhirContext with roles.
function onAuthenticateSuccess(theOutcome, theOutcomeFactory, theContext) {
   var username = theOutcome.username;
   Log.info('User ' + username + ' is logging in from ' + theContext.remoteAddress);

   if (username === 'ADMIN' && theContext.remoteAddress != '127.0.0.1') {
      var failure = theOutcomeFactory.newFailure();
      failure.message = 'Administrators sign in from the console host only';
      failure.incorrectPassword = false;
      return failure;
   }

   var patientClaim = theContext.getClaim('patient');
   if (patientClaim) {
      var patientId = 'Patient/' + patientClaim;
      theOutcome.addAuthority('FHIR_CAPABILITIES');
      theOutcome.addAuthority('FHIR_READ_ALL_IN_COMPARTMENT', patientId);
      theOutcome.addLaunchResourceId('patient', patientClaim);
   }
   var access = theContext.getClaim('access');
   if (access && access.role === 'admin') {
      theOutcome.addAuthority('ROLE_FHIR_CLIENT_SUPERUSER_RO');
   }
   if (theContext.getClaim('patientRepresentative') != null) {
      theOutcome.setUserData('patientRepresentative', true);
   }

   var scp = theContext.getClaim('scp');
   if (typeof scp === 'string') {
      scp.split(' ').forEach(function (nextScope) { theOutcome.addApprovedScope(nextScope); });
   }
   var scpArray = theContext.getStringArrayClaim('scpList');
   if (scpArray) {
      scpArray.forEach(function (nextScope) { theOutcome.addApprovedScope(nextScope); });
   }

   theOutcome.addLaunchResourceId('encounter', 'def');
   theOutcome.addFhirContextReference('PractitionerRole/123');
   theOutcome.addFhirContextReference('List/456', 'https://example.org/med-list-at-home');
   Log.info('scopes: ' + theContext.getApprovedScopes());
   return theOutcome;
}
